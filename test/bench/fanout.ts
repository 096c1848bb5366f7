import { type Bench, relayTarget, type Target } from "./harness.ts";
import { percentile, pool, waitForPrefix } from "./stats.ts";

export interface FanoutResult {
  edits: number;
  deliveries: number;
  delivered: number;
  lastLandedMs: number;
  perSecond: number;
  p50: number;
  p99: number;
  /** The runtime's CPU time from the burst's start until the last delivery landed, per delivery. */
  cpuMsPerDelivery: number;
}

/** How long a burst may take before what has not landed counts as lost. */
export const BURST_TIMEOUT_MS = 240_000;

/**
 * N edits, two webhooks each, all finishing in one burst: how fast every webhook lands. The time
 * runs from the first completion the simulator emits to the last webhook landing.
 */
export async function fanout(
  target: Target | Bench,
  edits: number,
  tag: string,
  /** Run between creating the edits and finishing them (e.g. until the target is quiet again). */
  beforeBurst?: () => Promise<unknown>,
): Promise<FanoutResult> {
  const t = "relay" in target ? relayTarget(target) : target;
  const prefix = `/${t.name}-fan-${tag}/`;
  const gens = await pool(edits, 32, (i) =>
    t.create(i, [`${t.receiver.url}${prefix}${i}/a`, `${t.receiver.url}${prefix}${i}/b`]),
  );
  const genOf = new Map(gens.map((g, i) => [`${prefix}${i}`, g]));
  await beforeBurst?.();
  const cpu = t.cpuMs();
  const burstStart = performance.now();
  for (const g of gens) t.sim.sim.finish(g, "succeeded");
  return landed(t, prefix, edits * 2, burstStart, cpu, (path) => genOf.get(path.slice(0, -2)));
}

/** What landed under `prefix`: unique deliveries, the rate from `start` to the last, and per-delivery latency. */
export async function landed(
  t: Target,
  prefix: string,
  want: number,
  start: number,
  cpuAtStart: number,
  genOf: (path: string, body: string) => string | undefined,
  key: (r: { path: string; headers: Record<string, string> }) => string = (r) => r.path,
): Promise<FanoutResult> {
  await waitForPrefix(t.receiver, prefix, want, BURST_TIMEOUT_MS);
  const cpu = t.cpuMs() - cpuAtStart;
  const hooks = t.receiver.received.filter((r) => r.path.startsWith(prefix));
  const latencies = hooks.map((h) => h.hr - (t.emittedAt.get(genOf(h.path, h.body) ?? "") ?? start));
  const last = hooks.length > 0 ? Math.max(...hooks.map((h) => h.hr)) - start : Number.NaN;
  const delivered = new Set(hooks.map(key)).size;
  return {
    edits: want / 2,
    deliveries: want,
    delivered,
    lastLandedMs: last,
    perSecond: (delivered / last) * 1000,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    cpuMsPerDelivery: cpu / delivered,
  };
}
