import { expect, it } from "vitest";
import { formatTable, runChaos } from "../chaos/run.ts";

// The chaos run in small: every fault at once, aborts, one runtime restart on the same storage.
// `npm run chaos` is the full run (docs/reliability.md).
it("loses nothing under every fault at once", async () => {
  const report = await runChaos({
    edits: 40,
    concurrency: 8,
    clients: 3,
    hubAbortEveryMs: 3_000,
    editAbortEveryMs: 800,
    restartAt: 0.5,
    timeLimitMs: 150_000,
  });
  console.log(formatTable(report.figures));
  expect(report.edits).toBe(40);
  expect(report.terminal).toBe(40);
  expect(report.wrongStatus).toBe(0);
  expect(report.lost).toBe(0);
  expect(report.duplicatesWithOtherId).toBe(0);
  expect(report.badSignatures).toBe(0);
  expect(report.relay5xx).toBe(0);
  expect(report.ok).toBe(true);
}, 180_000);
