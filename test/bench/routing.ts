import type { Target } from "./harness.ts";
import { pool, sleep } from "./stats.ts";

export interface RoutingResult {
  events: number;
  routed: number;
  ms: number;
  perSecond: number;
  /** The runtime's CPU time until every hand-over was acknowledged, per completion. */
  cpuMsPerEvent: number;
}

/**
 * How many completions per second one hub hands to edit objects: N edits without webhooks are
 * registered, then the simulator emits every completion at once (as fast as it can write them);
 * the clock stops when the hub has had every hand-over acknowledged (the relay's hub settles a
 * generation once its edit has applied it: its outstanding count reaches zero; the baseline's
 * hub counts answered RPCs). Polled every 50 ms.
 */
export async function hubRouting(
  t: Target,
  edits: number,
  beforeBurst?: () => Promise<unknown>,
): Promise<RoutingResult> {
  const gens = await pool(edits, 32, (i) => t.create(i, []));
  await beforeBurst?.();
  const before = await t.handed();
  const cpu = t.cpuMs();
  const start = performance.now();
  for (const g of gens) t.sim.sim.finish(g, "succeeded");
  let routed = 0;
  let at = start;
  const deadline = start + 180_000;
  while (routed < edits && performance.now() < deadline) {
    await sleep(50);
    const now = await t.handed();
    if (now - before !== routed) {
      routed = now - before;
      at = performance.now();
    }
  }
  const ms = at - start;
  const cpuMsPerEvent = (t.cpuMs() - cpu) / routed;
  return { events: edits, routed, ms, perSecond: (routed / ms) * 1000, cpuMsPerEvent };
}

/** Waits until the target's hub has handed over `count` more completions than `from` (settling between phases). */
export async function settle(t: Target, from: number, count: number, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await t.handed()) - from < count && Date.now() < deadline) await sleep(100);
}
