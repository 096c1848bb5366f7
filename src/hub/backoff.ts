/** Reconnect delay after `failures` consecutive failures: "full jitter" over a capped exponential. */
export function reconnectDelayMs(failures: number, random: () => number = Math.random): number {
  const ceiling = Math.min(30_000, 250 * 2 ** Math.min(failures, 10));
  return Math.round(100 + random() * ceiling);
}
