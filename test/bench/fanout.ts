import { type Bench, createEdit } from "./harness.ts";
import { percentile, pool } from "./stats.ts";

export interface FanoutResult {
  edits: number;
  deliveries: number;
  delivered: number;
  lastLandedMs: number;
  perSecond: number;
  p50: number;
  p99: number;
}

/** N edits, two webhooks each, all finishing in one burst: how fast every webhook lands. */
export async function fanout(bench: Bench, edits: number, tag: string): Promise<FanoutResult> {
  const prefix = `/fan-${tag}/`;
  const created = await pool(edits, 32, (i) =>
    createEdit(bench, i, {
      webhooks: [
        { url: `${bench.receiver.url}${prefix}${i}/a` },
        { url: `${bench.receiver.url}${prefix}${i}/b` },
      ],
    }),
  );
  const gens = created.map((e) => e.outputs[0]?.generation_id as string);
  const genOf = new Map(gens.map((g, i) => [`${prefix}${i}`, g]));
  const burstStart = performance.now();
  for (const g of gens) bench.sim.sim.finish(g, "succeeded");
  const want = edits * 2;
  await bench.receiver.waitFor((all) => all.filter((r) => r.path.startsWith(prefix)).length >= want, 120_000);
  const hooks = bench.receiver.received.filter((r) => r.path.startsWith(prefix));
  const latencies = hooks.map(
    (h) => h.hr - (bench.emittedAt.get(genOf.get(h.path.slice(0, -2)) ?? "") ?? burstStart),
  );
  const last = Math.max(...hooks.map((h) => h.hr)) - burstStart;
  return {
    edits,
    deliveries: want,
    delivered: new Set(hooks.map((h) => h.path)).size,
    lastLandedMs: last,
    perSecond: (want / last) * 1000,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  };
}
