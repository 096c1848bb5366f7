const ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/** Random base62 id with a type prefix, e.g. `edit_3kP…`; 22 chars ≈ 131 bits. */
export function newId(prefix: string, length = 22): string {
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  let out = "";
  // 62 does not divide 256; the bias (< 2^-2 per char on the low values) is irrelevant for ids.
  for (const b of bytes) out += ALPHABET[b % 62];
  return `${prefix}_${out}`;
}

export function randomBase64(bytes: number): string {
  return btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(bytes))));
}
