import type { ClientRecord, StoredClient } from "./store";

/**
 * Webhook signing secrets at rest: AES-GCM under ENCRYPTION_KEY (32 bytes, base64), a fresh
 * 96-bit IV per seal, stored as `v1.<iv>.<ciphertext>` (base64). KV and SQLite hold only this
 * form; the client object and nothing else unseals.
 */
const PREFIX = "v1.";
const b64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));
const unb64 = (text: string) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

const keys = new Map<string, Promise<CryptoKey>>();

/** Whether `raw` is a usable key: base64 of exactly 32 bytes. */
export function isSealingKey(raw: string): boolean {
  try {
    return unb64(raw.trim()).length === 32;
  } catch {
    return false;
  }
}

function cryptoKey(raw: string): Promise<CryptoKey> {
  let key = keys.get(raw);
  if (!key) {
    key = crypto.subtle.importKey("raw", unb64(raw.trim()), "AES-GCM", false, ["encrypt", "decrypt"]);
    keys.set(raw, key);
  }
  return key;
}

export async function seal(raw: string, plaintext: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ct = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv },
    await cryptoKey(raw),
    new TextEncoder().encode(plaintext),
  );
  return `${PREFIX}${b64(iv)}.${b64(new Uint8Array(ct))}`;
}

export async function unseal(raw: string, sealed: string): Promise<string> {
  if (!sealed.startsWith(PREFIX)) throw new Error("not a sealed secret");
  const [iv, ct] = sealed.slice(PREFIX.length).split(".");
  const pt = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: unb64(iv ?? "") },
    await cryptoKey(raw),
    unb64(ct ?? ""),
  );
  return new TextDecoder().decode(pt);
}

/** A record as stored: its secrets sealed (as they are, without a key: records from before sealing). */
export async function sealRecord(key: string | undefined, r: ClientRecord): Promise<StoredClient> {
  if (!key) return r;
  const secrets = await Promise.all(
    r.secrets.map(async (s) => ({ sealed: await seal(key, s.secret), expires_at: s.expires_at })),
  );
  return { ...r, secrets };
}

/** A stored record with its secrets readable (plain ones, from before sealing, as they are). */
export async function openRecord(key: string | undefined, stored: StoredClient): Promise<ClientRecord> {
  const secrets = await Promise.all(
    stored.secrets.map(async (s) => ({
      secret: s.sealed ? await unseal(key ?? "", s.sealed) : (s.secret ?? ""),
      expires_at: s.expires_at,
    })),
  );
  return { ...stored, secrets };
}
