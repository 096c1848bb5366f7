import { expect, it } from "vitest";
import type { Output } from "../core/status";
import { copyBackoffMs, sortUpdates } from "./copies";

const out = (id: string, status: Output["status"]): Output => ({
  generation_id: id,
  status,
  url: null,
  error: null,
});

it("holds back a success with Oxen's URL for copying; everything else applies now", () => {
  const { now, later } = sortUpdates(
    [out("a", "processing"), out("b", "processing"), out("c", "succeeded")],
    [
      { generation_id: "a", status: "succeeded", url: "https://oxen/a.png" },
      { generation_id: "b", status: "failed", error: "x" },
      { generation_id: "c", status: "succeeded", url: "https://oxen/c.png" },
      {
        generation_id: "a",
        status: "succeeded",
        url: "https://relay/a",
        media: { oxen_url: "https://oxen/a.png" },
      },
    ],
    () => new Set(),
  );
  expect(later.map((u) => u.generation_id)).toEqual(["a"]);
  expect(now.map((u) => [u.generation_id, u.status, Boolean(u.media)])).toEqual([
    ["b", "failed", false],
    ["c", "succeeded", false],
    ["a", "succeeded", true],
  ]);
});

// Found by the chaos run: a job cancelled on Oxen that Oxen then forgot (its legacy 404) was
// recorded as "outcome unknown" instead of cancelled.
it("reads an unknown outcome of a job whose cancel Oxen accepted as cancelled", () => {
  const unknown = { generation_id: "a", status: "failed" as const, unknown: true, error: "?" };
  let asked = 0;
  const cancelled = () => {
    asked++;
    return new Set(["a"]);
  };
  expect(sortUpdates([out("a", "processing")], [unknown], cancelled).now).toEqual([
    { generation_id: "a", status: "cancelled" },
  ]);
  expect(
    sortUpdates([out("a", "processing")], [{ generation_id: "a", status: "processing" }], cancelled).now,
  ).toHaveLength(1);
  expect(asked).toBe(1);
});

it("backs off copies up to 16 s", () => {
  expect([0, 1, 2, 3, 4, 9].map(copyBackoffMs)).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 16_000]);
});

it("with PERSIST_OUTPUTS=false applies a success at once, with Oxen's URL and persisted: false", () => {
  const { now, later } = sortUpdates(
    [out("a", "processing")],
    [{ generation_id: "a", status: "succeeded", url: "https://oxen/a.png" }],
    () => new Set(),
    false,
  );
  expect(later).toEqual([]);
  expect(now).toEqual([
    {
      generation_id: "a",
      status: "succeeded",
      url: "https://oxen/a.png",
      media: { oxen_url: "https://oxen/a.png", persisted: false },
    },
  ]);
});
