import { createParser, type EventSourceMessage } from "eventsource-parser";
import { describe, expect, it } from "vitest";
import { createRandoms } from "./random.ts";
import { JUNK_KINDS, junkBlock, splitWrites, terminateLines, type WireState } from "./sse-wire.ts";
import { LINE_ENDINGS } from "./stream-faults.ts";

const encoder = new TextEncoder();
const eventLines = (n: number): string[] => [
  "event: media_generation_completed",
  `data: {"generation_id":"g${n}","status":"succeeded","note":"naïve ✓"}`,
  "",
];

/** Many frames through one wire, as a stream would write them; returns what a spec parser makes of it. */
function roundTrip(seed: number, mode: (typeof LINE_ENDINGS)[number]): EventSourceMessage[] {
  const random = createRandoms(seed).stream;
  const wire: WireState = { endsWithCr: false };
  const parser = createParser({ onEvent: (e) => events.push(e) });
  const events: EventSourceMessage[] = [];
  const decoder = new TextDecoder();
  for (let n = 0; n < 60; n++) {
    for (const lines of [junkBlock(n), junkBlock(n + 1), eventLines(n), [": keep-alive", ""]]) {
      const bytes = encoder.encode(terminateLines(lines, mode, random, wire));
      for (const piece of splitWrites(bytes, "random", random)) {
        parser.feed(decoder.decode(piece, { stream: true }));
      }
    }
  }
  return events;
}

describe("sse wire encoding", () => {
  it("keeps the default output byte for byte: lf, one write per frame", () => {
    const wire = { endsWithCr: false };
    const text = terminateLines(eventLines(1), "lf", () => 0.5, wire);
    expect(text).toBe(`${eventLines(1).join("\n")}\n`);
    const bytes = encoder.encode(text);
    expect(splitWrites(bytes, "none", Math.random)).toEqual([bytes]);
  });

  it("every line ending mode and random chunking keep every real event intact (60 seeds)", () => {
    const expected = Array.from({ length: 60 }, (_, n) => eventLines(n)[1]?.slice("data: ".length));
    for (const mode of LINE_ENDINGS) {
      for (let seed = 1; seed <= 60; seed++) {
        const real = roundTrip(seed, mode).filter((e) => e.event === "media_generation_completed");
        expect(real.map((e) => e.data)).toEqual(expected);
      }
    }
  });

  it("never lets a CR line ending be read together with the LF of a following blank line", () => {
    const wire = { endsWithCr: true };
    // random() = 0 picks LF in mixed mode: the blank line must still not start with a bare LF.
    expect(terminateLines([""], "mixed", () => 0, wire)).toBe("\r\n");
    expect(terminateLines(["x", ""], "mixed", () => 0, { endsWithCr: false })).toBe("x\n\n");
  });

  it("has junk of every kind, each block closed by a blank line", () => {
    const blocks = Array.from({ length: JUNK_KINDS }, (_, n) => junkBlock(n));
    const has = (match: (lines: string[]) => boolean) => expect(blocks.some(match)).toBe(true);
    has((b) => b.every((line) => line === "" || line.startsWith(":"))); // comments
    has((b) => b.some((line) => /^event: sim_/.test(line))); // unknown event name
    has((b) => b.includes("data:")); // empty data
    has((b) => b.some((line) => line.startsWith("data: <<not json"))); // garbage data
    has((b) => b.some((line) => /^[a-z_-]+(:|$)/.test(line) && !/^(data|event|id|retry)\b/.test(line))); // unknown field
    has((b) => !b.some((line) => line.startsWith("event:")) && b.some((line) => line.startsWith("data: {")));
    for (const block of blocks) {
      expect(block.at(-1)).toBe("");
      expect(block.join("\n")).not.toMatch(/media_generation_completed|^(id|retry):/m);
    }
  });

  it("random chunking is reproducible for a seed", () => {
    const bytes = encoder.encode("x".repeat(500));
    const sizes = (seed: number) =>
      splitWrites(bytes, "random", createRandoms(seed).stream).map((p) => p.length);
    expect(sizes(5)).toEqual(sizes(5));
    expect(sizes(5)).not.toEqual(sizes(6));
    expect(sizes(5).reduce((a, b) => a + b, 0)).toBe(500);
  });
});
