import { expect, it } from "vitest";
import { formatTable, runChaos } from "../chaos/run.ts";

// The chaos run in small: every fault at once, aborts, one runtime restart on the same storage, a
// silent-stream window, racing Idempotency-Keys under enqueue 429s, oversize inputs, and
// redeliveries asked while a slow receiver holds the first attempt, and each client's endpoints
// (failing receivers, one paused and resumed). `npm run chaos` is the full run (docs/reliability.md).
it("loses nothing under every fault at once", async () => {
  const report = await runChaos({
    edits: 40,
    concurrency: 8,
    clients: 3,
    hubAbortEveryMs: 3_000,
    editAbortEveryMs: 800,
    restartAt: 0.5,
    racingEvery: 8,
    slowEvery: 8,
    oversize: 2,
    silentWindows: [{ at: 0.1, forMs: 6_000 }],
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
  // The new fault classes ran, and held.
  expect(report.racingKeys).toBe(5);
  expect(report.racingMismatches).toBe(0);
  expect(report.duplicatedOxenJobs).toBe(0);
  expect(report.oxenJobs).toBe(report.expectedOxenJobs);
  // Of the 2 large inputs, the ~3 MB data: image is taken (R2) and the 9 MB body refused.
  expect(report.oversizeRefused).toBe(1);
  expect(report.oversizeWrong).toBe(0);
  expect(report.slowEdits).toBe(5);
  expect(report.redeliveriesLost).toBe(0);
  expect(report.redeliveriesWrong).toBe(0);
  expect(report.silentStreams).toBeGreaterThan(0);
  // The clients' endpoints: every event of each log at every endpoint subscribed to it, with its
  // id; the paused one got nothing before its resume, then what it held in the log's order.
  expect(report.endpoints.endpoints).toBe(9);
  expect(report.endpoints.pairs).toBeGreaterThan(0);
  expect(report.endpoints.lost).toBe(0);
  expect(report.endpoints.strays).toBe(0);
  expect(report.endpoints.unsubscribed).toBe(0);
  expect(report.endpoints.badSignatures).toBe(0);
  expect(report.endpoints.logMissing).toBe(0);
  expect(report.endpoints.logWrong).toBe(0);
  expect(report.endpoints.held).toBeGreaterThan(0);
  expect(report.endpoints.heldOutOfOrder).toBe(0);
  expect(report.endpoints.beforeResume).toBe(0);
  expect(report.ok).toBe(true);
}, 180_000);
