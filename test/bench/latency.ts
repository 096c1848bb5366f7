import { type Bench, OXEN_KEY, relayTarget, type Target } from "./harness.ts";
import { percentile, pool, sleep, waitForPrefix } from "./stats.ts";

export interface LatencyResult {
  jobs: number;
  relayP50: number;
  relayP99: number;
  pollP50: number;
  pollP99: number;
  lost: number;
  /** The runtime's CPU time over the run (enqueue, completion and delivery of every job), per job. */
  cpuMsPerJob: number;
}

const TERMINAL = new Set(["succeeded", "failed", "cancelled"]);

/**
 * Completion → webhook, against the alternative Oxen's docs give: a client polling
 * GET /ai/queue/{id} every 2 s. The same jobs feed both; each starts its poller when enqueued.
 * `relay*` are the target's figures (the relay's, or the baseline's when given the baseline).
 */
export async function notificationLatency(
  target: Target | Bench,
  jobs: number,
  perSecond: number,
): Promise<LatencyResult> {
  const t = "relay" in target ? relayTarget(target) : target;
  const prefix = `/${t.name}-lat-${Math.random().toString(36).slice(2, 8)}/`;
  const pollSeen = new Map<string, number>();
  const pollers: Promise<void>[] = [];
  const paths = new Map<string, string>();
  const cpu = t.cpuMs();
  const startedAt = performance.now();
  await pool(jobs, 16, async (i) => {
    // A steady rate: job i is due at i / perSecond.
    const due = startedAt + (i * 1000) / perSecond;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    const path = `${prefix}${i}`;
    const gen = await t.create(i, [`${t.receiver.url}${path}`]);
    paths.set(gen, path);
    pollers.push(poll(t, gen, pollSeen));
    // The job's work takes a moment; then Oxen finishes it.
    setTimeout(() => t.sim.sim.finish(gen, "succeeded"), 300);
  });
  await Promise.all(pollers);
  await waitForPrefix(t.receiver, prefix, jobs, 60_000);
  const cpuMsPerJob = (t.cpuMs() - cpu) / jobs;
  const arrived = new Map(
    t.receiver.received.filter((r) => r.path.startsWith(prefix)).map((r) => [r.path, r]),
  );
  const relay: number[] = [];
  const polled: number[] = [];
  let lost = 0;
  for (const [gen, path] of paths) {
    const emitted = t.emittedAt.get(gen);
    const hook = arrived.get(path);
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
    cpuMsPerJob,
  };
}

async function poll(t: Target, gen: string, seen: Map<string, number>): Promise<void> {
  for (let i = 0; i < 60; i++) {
    const res = await fetch(`${t.sim.baseUrl}/ai/queue/${gen}`, {
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
