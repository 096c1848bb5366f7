import { type Bench, OXEN_KEY, relayTarget, type Target } from "./harness.ts";
import { percentile, pool } from "./stats.ts";

export interface EnqueueResult {
  concurrency: number;
  calls: number;
  directP50: number;
  directP99: number;
  relayP50: number;
  relayP99: number;
  /** The baseline's POST /edits (when one was given). */
  baselineP50: number;
  baselineP99: number;
  /** Runtime CPU per create over the figure, relay and baseline (their runtimes are separate processes). */
  relayCpuMs: number;
  baselineCpuMs: number;
  /** Generation ids the relay and the baseline enqueued, to finish them afterwards. */
  made: { target: Target; generation: string }[];
}

const body = {
  model: "qwen-image-edit-2511",
  prompt: "Add a funny hat",
  input_image: ["https://example.com/a.png"],
  num_generations: 1,
};

async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t = performance.now();
  const out = await fn();
  return [performance.now() - t, out];
}

/**
 * POST /v1/edits beside a direct POST /ai/queue to the same simulator (and the baseline's
 * POST /edits, when given), at one concurrency. Interleaved, so all see the same machine at the
 * same moments.
 */
export async function enqueueOverhead(
  bench: Bench | Target,
  calls: number,
  concurrency: number,
  baseline?: Target,
): Promise<EnqueueResult> {
  const relay = "relay" in bench ? relayTarget(bench) : bench;
  const direct = () =>
    fetch(`${relay.sim.baseUrl}/ai/queue`, {
      method: "POST",
      headers: { authorization: `Bearer ${OXEN_KEY}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    }).then(async (r) => {
      const made = (await r.json()) as { generations: { generation_id: string }[] };
      return made.generations[0]?.generation_id as string;
    });
  const kinds = baseline ? 3 : 2;
  const cpu = [relay.cpuMs(), baseline?.cpuMs() ?? Number.NaN];
  const samples = await pool<[string, number, string]>(calls * kinds, concurrency, async (i) => {
    const kind = i % kinds;
    if (kind === 0) return ["direct", ...(await timed(direct))];
    if (kind === 1) return ["relay", ...(await timed(() => relay.create(i, [])))];
    return ["baseline", ...(await timed(() => (baseline as Target).create(i, [])))];
  });
  const of = (k: string) => samples.filter(([name]) => name === k).map(([, t]) => t);
  const [d, r, b] = [of("direct"), of("relay"), of("baseline")];
  const relayCpuMs = (relay.cpuMs() - (cpu[0] as number)) / r.length;
  const baselineCpuMs = baseline ? (baseline.cpuMs() - (cpu[1] as number)) / b.length : Number.NaN;
  return {
    concurrency,
    calls,
    directP50: percentile(d, 50),
    directP99: percentile(d, 99),
    relayP50: percentile(r, 50),
    relayP99: percentile(r, 99),
    baselineP50: percentile(b, 50),
    baselineP99: percentile(b, 99),
    relayCpuMs,
    baselineCpuMs,
    made: samples.flatMap(([k, , g]) =>
      k === "relay"
        ? [{ target: relay, generation: g }]
        : k === "baseline" && baseline
          ? [{ target: baseline, generation: g }]
          : [],
    ),
  };
}
