import { percentile } from "./stats.ts";

export interface Floor {
  p50: number;
  p99: number;
  /** The runtime's CPU per request (NaN when unknown). */
  cpuMs: number;
}

export interface FloorTarget {
  url: string;
  cpuMs?: () => number;
}

/**
 * The runtime's floor: sequential requests for a route that does no I/O (an unknown path: the
 * relay's Hono 404, the baseline's bare 404), the targets interleaved so that each sees the same
 * machine at the same moments.
 */
export async function floors(
  targets: Record<string, FloorTarget>,
  count: number,
): Promise<Record<string, Floor>> {
  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(targets).map((k) => [k, []]));
  // Warm-up: the first requests compile code and open connections.
  for (const { url } of Object.values(targets)) {
    for (let i = 0; i < 5; i++) await fetch(`${url}/no-such-route`).then((r) => r.arrayBuffer());
  }
  const cpuAt = () =>
    Object.fromEntries(Object.entries(targets).map(([k, t]) => [k, t.cpuMs?.() ?? Number.NaN]));
  const cpu0 = cpuAt();
  for (let i = 0; i < count; i++) {
    for (const [name, { url }] of Object.entries(targets)) {
      const t = performance.now();
      await fetch(`${url}/no-such-route`).then((r) => r.arrayBuffer());
      samples[name]?.push(performance.now() - t);
    }
  }
  const cpu1 = cpuAt();
  return Object.fromEntries(
    Object.entries(samples).map(([k, s]) => [
      k,
      {
        p50: percentile(s, 50),
        p99: percentile(s, 99),
        // Each runtime serves only its own requests: its CPU over the loop is theirs.
        cpuMs: ((cpu1[k] as number) - (cpu0[k] as number)) / count,
      },
    ]),
  );
}

/**
 * Waits until a target has finished the background work an earlier figure left it (KV writes,
 * output copies, usage reports run after a webhook is sent): five no-I/O requests in a row within
 * 3× its floor (at least 5 ms), checked every 100 ms, for at most `timeoutMs`. Answers the wait.
 */
export async function quiesce(url: string, floorP50: number, timeoutMs = 30_000): Promise<number> {
  const start = performance.now();
  const limit = Math.max(5, 3 * floorP50);
  let quiet = 0;
  while (quiet < 5 && performance.now() - start < timeoutMs) {
    const t = performance.now();
    await fetch(`${url}/no-such-route`).then((r) => r.arrayBuffer());
    quiet = performance.now() - t <= limit ? quiet + 1 : 0;
    if (quiet < 5) await new Promise((r) => setTimeout(r, 100));
  }
  return performance.now() - start;
}
