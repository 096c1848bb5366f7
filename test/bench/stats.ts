/** Nearest-rank percentile of unsorted samples. */
export function percentile(samples: number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

export const ms = (n: number) => (Number.isFinite(n) ? `${n.toFixed(n < 10 ? 2 : 1)} ms` : "n/a");

export async function pool<T>(
  count: number,
  concurrency: number,
  fn: (i: number) => Promise<T>,
): Promise<T[]> {
  const out: T[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) {
        const i = next++;
        out[i] = await fn(i);
      }
    }),
  );
  return out;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Waits until `want` requests under `prefix` have arrived (polled: a predicate run on every
 * arrival would cost the load generator O(n²) in a burst), or `timeoutMs` has passed; answers how
 * many arrived (the caller counts what is lost).
 */
export async function waitForPrefix(
  receiver: { received: { path: string }[] },
  prefix: string,
  want: number,
  timeoutMs: number,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let seen = 0;
  let from = 0;
  for (;;) {
    const all = receiver.received;
    if (from > all.length) from = seen = 0;
    for (; from < all.length; from++) if (all[from]?.path.startsWith(prefix)) seen++;
    if (seen >= want) return seen;
    if (Date.now() > deadline) return seen;
    await sleep(50);
  }
}
