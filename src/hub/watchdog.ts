/**
 * Oxen writes `: keep-alive` every 15 s on an idle stream: three missed in a row means the
 * connection is dead even if TCP has not noticed (a half-open connection never errors).
 */
export const STREAM_SILENCE_MS = 45_000;
/** A stream that has not answered with headers by then is abandoned and tried again. */
export const STREAM_OPEN_TIMEOUT_MS = 10_000;
/** How often the hub looks at its stream. */
export const STREAM_CHECK_MS = 5_000;

/** Whether a stream session should be dropped: never opened in time, or silent for too long. */
export function isSilent(session: { openedAt: number | null; lastByteAt: number }, now: number): boolean {
  const limit = session.openedAt === null ? STREAM_OPEN_TIMEOUT_MS : STREAM_SILENCE_MS;
  return now - session.lastByteAt > limit;
}
