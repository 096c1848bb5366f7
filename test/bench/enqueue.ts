import { type Bench, createEdit, OXEN_KEY } from "./harness.ts";
import { percentile, pool } from "./stats.ts";

export interface EnqueueResult {
  concurrency: number;
  calls: number;
  directP50: number;
  directP99: number;
  relayP50: number;
  relayP99: number;
}

const body = {
  model: "qwen-image-edit-2511",
  prompt: "Add a funny hat",
  input_image: ["https://example.com/a.png"],
};

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

/** POST /v1/edits beside a direct POST /ai/queue to the same simulator, at one concurrency. */
export async function enqueueOverhead(
  bench: Bench,
  calls: number,
  concurrency: number,
): Promise<EnqueueResult> {
  const direct = () =>
    fetch(`${bench.sim.baseUrl}/ai/queue`, {
      method: "POST",
      headers: { authorization: `Bearer ${OXEN_KEY}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    }).then((r) => r.arrayBuffer());
  // Interleaved, so both see the same machine at the same moments.
  const samples = await pool<[string, number]>(calls * 2, concurrency, async (i) =>
    i % 2 === 0 ? ["direct", await timed(direct)] : ["relay", await timed(() => createEdit(bench, i, {}))],
  );
  const d = samples.filter(([k]) => k === "direct").map(([, t]) => t);
  const r = samples.filter(([k]) => k === "relay").map(([, t]) => t);
  return {
    concurrency,
    calls,
    directP50: percentile(d, 50),
    directP99: percentile(d, 99),
    relayP50: percentile(r, 50),
    relayP99: percentile(r, 99),
  };
}
