/** A session that stayed open this long, or carried an event, was healthy: its end is routine. */
export const HEALTHY_SESSION_MS = 1_000;

/** Reconnect delay after `failures` consecutive failures: "full jitter" over a capped exponential. */
export function reconnectDelayMs(failures: number, random: () => number = Math.random): number {
  const ceiling = Math.min(30_000, 250 * 2 ** Math.min(failures, 10));
  return Math.round(100 + random() * ceiling);
}

/**
 * What to do when the stream ends. After a healthy session (Oxen closing a long-lived stream, a
 * reset after minutes of traffic) reconnect at once: every moment without a listener loses events.
 * After a failed connect or a session that died young, back off, more each time.
 * `session` is how long the stream was open and how many events it carried, or null if it never opened.
 */
export function afterStreamEnd(
  failures: number,
  session: { ms: number; events: number } | null,
  random: () => number = Math.random,
): { delayMs: number; failures: number } {
  if (session && (session.ms >= HEALTHY_SESSION_MS || session.events > 0)) return { delayMs: 0, failures: 0 };
  return { delayMs: reconnectDelayMs(failures, random), failures: failures + 1 };
}
