import { type Bench, createEdit, OXEN_KEY } from "./harness.ts";
import { percentile, pool, sleep } from "./stats.ts";

export interface LatencyResult {
  jobs: number;
  relayP50: number;
  relayP99: number;
  pollP50: number;
  pollP99: number;
  lost: number;
}

const TERMINAL = new Set(["succeeded", "failed", "cancelled"]);

/**
 * Completion → webhook, against the alternative Oxen's docs give: a client polling
 * GET /ai/queue/{id} every 2 s. The same jobs feed both; each starts its poller when enqueued.
 */
export async function notificationLatency(
  bench: Bench,
  jobs: number,
  perSecond: number,
): Promise<LatencyResult> {
  const pollSeen = new Map<string, number>();
  const pollers: Promise<void>[] = [];
  const paths = new Map<string, string>();
  const startedAt = performance.now();
  await pool(jobs, 16, async (i) => {
    // A steady rate: job i is due at i / perSecond.
    const due = startedAt + (i * 1000) / perSecond;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    const path = `/lat/${i}`;
    const edit = await createEdit(bench, i, { webhook: `${bench.receiver.url}${path}` });
    const gen = edit.outputs[0]?.generation_id as string;
    paths.set(gen, path);
    pollers.push(poll(bench, gen, pollSeen));
    // The job's work takes a moment; then Oxen finishes it.
    setTimeout(() => bench.sim.sim.finish(gen, "succeeded"), 300);
  });
  await Promise.all(pollers);
  await bench.receiver.waitFor((all) => all.filter((r) => r.path.startsWith("/lat/")).length >= jobs, 60_000);
  const relay: number[] = [];
  const polled: number[] = [];
  let lost = 0;
  for (const [gen, path] of paths) {
    const emitted = bench.emittedAt.get(gen);
    const hook = bench.receiver.on(path)[0];
    const seen = pollSeen.get(gen);
    if (emitted === undefined || !hook) {
      lost++;
      continue;
    }
    relay.push(hook.hr - emitted);
    if (seen !== undefined) polled.push(seen - emitted);
  }
  return {
    jobs,
    relayP50: percentile(relay, 50),
    relayP99: percentile(relay, 99),
    pollP50: percentile(polled, 50),
    pollP99: percentile(polled, 99),
    lost,
  };
}

async function poll(bench: Bench, gen: string, seen: Map<string, number>): Promise<void> {
  for (let i = 0; i < 60; i++) {
    const res = await fetch(`${bench.sim.baseUrl}/ai/queue/${gen}`, {
      headers: { authorization: `Bearer ${OXEN_KEY}` },
    });
    const body = (await res.json()) as { status: string };
    if (TERMINAL.has(body.status)) {
      seen.set(gen, performance.now());
      return;
    }
    await sleep(2_000);
  }
}
