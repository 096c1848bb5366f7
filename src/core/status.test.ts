import { describe, expect, it } from "vitest";
import { aggregateError, aggregateStatus, applyUpdate, type Output, terminalEventType } from "./status";

const out = (status: Output["status"], extra: Partial<Output> = {}): Output => ({
  generation_id: "g",
  status,
  url: null,
  error: null,
  ...extra,
});

describe("applyUpdate", () => {
  it("moves forward and records the url or error", () => {
    expect(applyUpdate(out("queued"), { generation_id: "g", status: "processing" })?.status).toBe(
      "processing",
    );
    expect(applyUpdate(out("queued"), { generation_id: "g", status: "succeeded", url: "u" })).toEqual(
      out("succeeded", { url: "u" }),
    );
    expect(applyUpdate(out("processing"), { generation_id: "g", status: "failed", error: "bad" })).toEqual(
      out("failed", { error: "bad" }),
    );
  });
  it("gives failures a message even when Oxen sent none", () => {
    expect(applyUpdate(out("queued"), { generation_id: "g", status: "failed" })?.error).toBe(
      "Generation failed",
    );
  });
  it("ignores stale, repeated and post-terminal updates", () => {
    expect(applyUpdate(out("processing"), { generation_id: "g", status: "queued" })).toBeNull();
    expect(applyUpdate(out("processing"), { generation_id: "g", status: "processing" })).toBeNull();
    expect(applyUpdate(out("succeeded", { url: "u" }), { generation_id: "g", status: "failed" })).toBeNull();
    expect(applyUpdate(out("cancelled"), { generation_id: "g", status: "succeeded" })).toBeNull();
  });
});

describe("aggregateStatus", () => {
  it.each([
    [["queued", "queued"], "queued"],
    [["queued", "processing"], "processing"],
    [["succeeded", "queued"], "processing"],
    [["succeeded", "failed"], "succeeded"],
    [["failed", "cancelled"], "failed"],
    [["cancelled", "cancelled"], "cancelled"],
    [["failed"], "failed"],
  ] as const)("%j → %s", (statuses, expected) => {
    expect(aggregateStatus(statuses.map((s) => out(s)))).toBe(expected);
  });
  it("takes the edit error from the first failed generation", () => {
    expect(aggregateError([out("failed", { error: "first" }), out("failed", { error: "second" })])).toEqual({
      message: "first",
    });
    expect(aggregateError([out("failed", { error: "x" }), out("succeeded")])).toBeNull();
  });
  it("names terminal events only", () => {
    expect(terminalEventType("succeeded")).toBe("edit.succeeded");
    expect(terminalEventType("cancelled")).toBe("edit.cancelled");
    expect(terminalEventType("processing")).toBeNull();
  });
});
