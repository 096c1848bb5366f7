/**
 * Signed, key-less URLs (files, an edit's event stream): HMAC-SHA256 over the path and the
 * expiry, base64url. The query string is the credential, like a presigned object-store link.
 */
const encoder = new TextEncoder();
const keys = new Map<string, Promise<CryptoKey>>();

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
      "sign",
      "verify",
    ]);
    keys.set(secret, key);
  }
  return key;
}

const b64url = (bytes: ArrayBuffer) =>
  btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");

const unb64url = (text: string): Uint8Array | null => {
  try {
    const b64 = text.replace(/-/g, "+").replace(/_/g, "/");
    return Uint8Array.from(atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4)), (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
};

/** `?exp=<unix seconds>&sig=<hmac>` for `path`, valid until `expiresAt` (ms). */
export async function signPath(secret: string, path: string, expiresAt: number): Promise<string> {
  const exp = Math.ceil(expiresAt / 1000);
  const sig = await crypto.subtle.sign("HMAC", await hmacKey(secret), encoder.encode(`${path}\n${exp}`));
  return `exp=${exp}&sig=${b64url(sig)}`;
}

/** Whether `exp` and `sig` are a valid, unexpired signature of `path`. Constant time. */
export async function verifyPath(
  secret: string,
  path: string,
  exp: string | undefined,
  sig: string | undefined,
  now = Date.now(),
): Promise<boolean> {
  if (!exp || !sig || !/^\d{1,12}$/.test(exp) || Number(exp) * 1000 < now) return false;
  const bytes = unb64url(sig);
  // Only the canonical encoding: base64 leaves 2 bits of the last character unused.
  if (bytes?.length !== 32 || b64url(bytes.buffer as ArrayBuffer) !== sig) return false;
  return crypto.subtle.verify("HMAC", await hmacKey(secret), bytes, encoder.encode(`${path}\n${exp}`));
}
