import { describe, expect, it } from "vitest";
import { parseCompletion, updateFromRest } from "./events";

describe("parseCompletion", () => {
  it("reads success and failure events, with the stream's field names", () => {
    expect(
      parseCompletion(
        "media_generation_completed",
        '{"generation_id":"g1","status":"succeeded","media_type":"image","model":"m","url":"https://x/y.png"}',
      ),
    ).toEqual({ generation_id: "g1", status: "succeeded", url: "https://x/y.png", error: null });
    expect(
      parseCompletion(
        "media_generation_completed",
        '{"generation_id":"g2","status":"failed","error":"Insufficient credits"}',
      ),
    ).toEqual({ generation_id: "g2", status: "failed", url: null, error: "Insufficient credits" });
  });
  it("ignores other events, garbage and unknown statuses", () => {
    expect(parseCompletion("deployment_status", '{"generation_id":"g","status":"succeeded"}')).toBeNull();
    expect(parseCompletion(undefined, '{"generation_id":"g","status":"succeeded"}')).toBeNull();
    expect(parseCompletion("media_generation_completed", "not json")).toBeNull();
    expect(parseCompletion("media_generation_completed", "")).toBeNull();
    expect(parseCompletion("media_generation_completed", '{"status":"succeeded"}')).toBeNull();
    expect(
      parseCompletion("media_generation_completed", '{"generation_id":"g","status":"exploded"}'),
    ).toBeNull();
  });
});

describe("updateFromRest", () => {
  it("maps REST names onto an update", () => {
    expect(
      updateFromRest("g", { generation_id: "g", status: "succeeded", result_url: "u", error_message: null }),
    ).toEqual({ generation_id: "g", status: "succeeded", url: "u", error: null });
  });
  it("never reads a vanished generation as success", () => {
    expect(updateFromRest("g", null).status).toBe("failed");
  });
});
