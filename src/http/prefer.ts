export const MAX_WAIT_S = 60;

/**
 * Seconds from a `Prefer: wait=N` header (RFC 7240), capped at 60; null when absent or unreadable.
 * Other preferences in the same header are ignored.
 */
export function preferredWait(header: string | undefined): number | null {
  if (!header) return null;
  for (const part of header.split(/[,;]/)) {
    const m = part.trim().match(/^wait\s*=\s*"?(\d+)"?$/i);
    if (m) return Math.min(Number(m[1]), MAX_WAIT_S);
  }
  return null;
}
