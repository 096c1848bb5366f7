import { expect, it } from "vitest";
import { isSilent, STREAM_OPEN_TIMEOUT_MS, STREAM_SILENCE_MS } from "./watchdog";

it("drops a stream that stays silent past three keep-alives", () => {
  const open = { openedAt: 0, lastByteAt: 1_000 };
  expect(isSilent(open, 1_000 + STREAM_SILENCE_MS)).toBe(false);
  expect(isSilent(open, 1_001 + STREAM_SILENCE_MS)).toBe(true);
});

it("drops a stream whose headers never came", () => {
  const opening = { openedAt: null, lastByteAt: 0 };
  expect(isSilent(opening, STREAM_OPEN_TIMEOUT_MS)).toBe(false);
  expect(isSilent(opening, STREAM_OPEN_TIMEOUT_MS + 1)).toBe(true);
});
