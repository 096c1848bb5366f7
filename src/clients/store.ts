import { sha256Hex } from "../lib/crypto";
import { newId, randomBase64 } from "../lib/ids";
import { iso } from "../lib/time";
import { type ClientLimits, DEFAULT_LIMITS } from "./limits";

/** How long a replaced webhook secret keeps signing, so receivers roll over without a gap. */
export const SECRET_OVERLAP_MS = 24 * 60 * 60 * 1000;

export interface SigningSecret {
  secret: string;
  /** null for the current secret; the end of the overlap for a replaced one. */
  expires_at: number | null;
}

/** A secret as stored: sealed (clients/sealing.ts), or in plain text in records older than sealing. */
export interface StoredSecret {
  sealed?: string;
  secret?: string;
  expires_at: number | null;
}

export type ClientStatus = "active" | "disabled";

/** A client as its object holds it in memory (secrets in plain text). */
export interface ClientRecord {
  id: string;
  name: string;
  key_hash: string;
  secrets: SigningSecret[];
  created_at: string;
  status?: ClientStatus;
  /** Overrides of the default limits; absent ones default. */
  limits?: Partial<ClientLimits>;
}

/** A client as KV and SQLite hold it: secrets sealed. */
export type StoredClient = Omit<ClientRecord, "secrets"> & { secrets: StoredSecret[] };

export const limitsOf = (record: Pick<ClientRecord, "limits">): ClientLimits => ({
  ...DEFAULT_LIMITS,
  ...record.limits,
});

/** Every KV key this module writes, by prefix (checked against docs/storage.md). */
export const CLIENT_KV_PREFIXES = ["client:", "apikey:"] as const;
const clientKey = (id: string) => `client:${id}`;
const apiKeyKey = (hash: string) => `apikey:${hash}`;

export const newWebhookSecret = () => `whsec_${randomBase64(32)}`;

export const newApiKey = () => `sk_${newId("live", 32).slice(5)}`;

/** A new client's record and its api key (shown once; only its hash is kept). */
export async function newClientRecord(name: string, limits?: Partial<ClientLimits>, now = Date.now()) {
  const apiKey = newApiKey();
  const record: ClientRecord = {
    id: newId("cli"),
    name,
    key_hash: await sha256Hex(apiKey),
    secrets: [{ secret: newWebhookSecret(), expires_at: null }],
    created_at: iso(now),
    status: "active",
    ...(limits ? { limits } : {}),
  };
  return { record, apiKey };
}

export async function getClient(kv: KVNamespace, id: string): Promise<StoredClient | null> {
  return kv.get<StoredClient>(clientKey(id), "json");
}

/**
 * Looks a client up by its api key, in one read: the record is kept under the key's hash too
 * (only the hash is ever stored). Authentication is on every call, so the second read matters.
 */
export async function findClientByApiKey(kv: KVNamespace, apiKey: string): Promise<StoredClient | null> {
  return kv.get<StoredClient>(apiKeyKey(await sha256Hex(apiKey)), "json");
}

/** The secrets that sign at `now`: the current one first, then any still inside their overlap. */
export function liveSecrets(record: Pick<ClientRecord, "secrets">, now = Date.now()): string[] {
  return record.secrets.filter((s) => s.expires_at === null || s.expires_at > now).map((s) => s.secret);
}

export const currentSecret = (record: ClientRecord): string =>
  record.secrets.find((s) => s.expires_at === null)?.secret ?? "";

/** A new current secret; the old one signs alongside it until the overlap ends. */
export function rotated(record: ClientRecord, now = Date.now()): ClientRecord {
  const kept = record.secrets
    .filter((s) => s.expires_at === null || s.expires_at > now)
    .map((s) => (s.expires_at === null ? { ...s, expires_at: now + SECRET_OVERLAP_MS } : s));
  return { ...record, secrets: [{ secret: newWebhookSecret(), expires_at: null }, ...kept] };
}

/**
 * Writes the KV projections of a client; only its object calls this (clients/object.ts). A key
 * hash that is no longer the client's (a rotated key) is deleted: refused at once here, and
 * everywhere once KV has caught up (about 60 s).
 */
export async function saveClient(kv: KVNamespace, record: StoredClient, oldKeyHash?: string): Promise<void> {
  const json = JSON.stringify(record);
  await Promise.all([
    kv.put(clientKey(record.id), json),
    kv.put(apiKeyKey(record.key_hash), json),
    oldKeyHash && oldKeyHash !== record.key_hash ? kv.delete(apiKeyKey(oldKeyHash)) : null,
  ]);
}
