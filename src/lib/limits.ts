/** Cloudflare's limit on one SQLite row or storage value of a Durable Object. */
export const MAX_ROW_BYTES = 2_000_000;

const encoder = new TextEncoder();

/**
 * Refuses a value that would not fit a row. Workerd here does not enforce the limit, Cloudflare
 * does: checking it ourselves makes every test run under it, and a write that cannot commit
 * fails loudly at our line instead of wedging an edit.
 */
export function assertFitsRow(what: string, text: string): void {
  // UTF-8 is at most 3 bytes per UTF-16 unit: skip the encode when the answer is clear.
  if (text.length * 3 <= MAX_ROW_BYTES) return;
  const bytes = encoder.encode(text).length;
  if (bytes > MAX_ROW_BYTES) throw new Error(`${what} of ${bytes} bytes exceeds a Durable Object row`);
}
