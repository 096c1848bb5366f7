import { describe, expect, it } from "vitest";
import type { Output } from "../core/status";
import type { Snapshot } from "./kv";
import { subscribers, timedOut, transition } from "./transition";

const out = (status: Output["status"], extra: Partial<Output> = {}): Output => ({
  generation_id: `g-${status}`,
  status,
  url: null,
  error: null,
  ...extra,
});

const snap = (outputs: Output[], status: Output["status"] = "queued"): Snapshot => ({
  client_id: "cli_1",
  edit: {
    id: "edit_1",
    object: "edit",
    status,
    model: "m",
    input: { prompt: "p", input_image: ["https://x/a.png"], num_generations: outputs.length },
    outputs,
    error: null,
    webhooks: [
      { url: "https://a/h", events: ["edit.succeeded"] },
      { url: "https://a/h", events: ["edit.succeeded", "edit.failed"] },
      { url: "https://b/h", events: ["edit.failed"] },
    ],
    metadata: {},
    created_at: "2026-01-01T00:00:00.000Z",
    completed_at: null,
  },
});

describe("transition", () => {
  it("owes an event exactly when the edit becomes terminal", () => {
    const s = snap([out("queued")]);
    const mid = transition(s, [out("processing")], 1_000, "msg_1");
    expect(mid.next.edit.status).toBe("processing");
    expect(mid.event).toBeNull();
    const done = transition(mid.next, [out("succeeded", { url: "https://r" })], 2_000, "msg_2");
    expect(done.next.edit.status).toBe("succeeded");
    expect(done.next.edit.completed_at).toBe(new Date(2_000).toISOString());
    expect(done.event?.type).toBe("edit.succeeded");
    expect(JSON.parse(done.event?.payload ?? "{}").data.status).toBe("succeeded");
    const again = transition(done.next, done.next.edit.outputs, 3_000, "msg_3");
    expect(again.event).toBeNull();
    expect(again.next.edit.completed_at).toBe(new Date(2_000).toISOString());
  });
  it("types the error of a timed-out edit", () => {
    const { next, event } = transition(snap([out("processing")]), timedOut([out("processing")], 60), 5, "m", {
      errorType: "timeout",
    });
    expect(next.edit.error).toEqual({ type: "timeout", message: expect.stringContaining("60 s") });
    expect(event?.type).toBe("edit.failed");
  });
  it("lists each subscribed URL once", () => {
    const s = snap([out("queued")]).edit;
    expect(subscribers(s, "edit.succeeded")).toEqual(["https://a/h"]);
    expect(subscribers(s, "edit.failed")).toEqual(["https://a/h", "https://b/h"]);
    expect(subscribers(s, "edit.cancelled")).toEqual([]);
  });
});
