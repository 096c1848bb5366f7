import type { Edit } from "./schema";

/** The KV read model: a snapshot per edit, and a per-client index, newest first. */

export interface Snapshot {
  client_id: string;
  edit: Edit;
}

const MAX_MS = 9_999_999_999_999;
/** Every KV key this module writes, by prefix (checked against docs/storage.md). */
export const EDIT_KV_PREFIXES = ["edit:", "list:"] as const;
const snapshotKey = (id: string) => `edit:${id}`;
const indexPrefix = (clientId: string) => `list:${clientId}:`;
export const indexKey = (clientId: string, createdAt: string, id: string) =>
  `${indexPrefix(clientId)}${String(MAX_MS - Date.parse(createdAt)).padStart(13, "0")}:${id}`;

export async function readSnapshot(kv: KVNamespace, id: string): Promise<Snapshot | null> {
  return kv.get<Snapshot>(snapshotKey(id), "json");
}

/**
 * Writes an edit's snapshot and its list entry. `ttlSeconds` (for a terminal edit: its retention
 * and a day) is only a backstop: the edit's object deletes both when it erases the edit.
 */
export async function writeSnapshot(kv: KVNamespace, snap: Snapshot, ttlSeconds?: number): Promise<void> {
  const { edit } = snap;
  const expiry = ttlSeconds ? { expirationTtl: Math.max(60, ttlSeconds) } : {};
  await Promise.all([
    kv.put(snapshotKey(edit.id), JSON.stringify(snap), expiry),
    writeListEntry(kv, snap, ttlSeconds),
  ]);
}

/** The edit's entry in its client's list, its status as metadata (the list filters on it). */
export async function writeListEntry(kv: KVNamespace, snap: Snapshot, ttlSeconds?: number): Promise<void> {
  const { edit } = snap;
  const expiry = ttlSeconds ? { expirationTtl: Math.max(60, ttlSeconds) } : {};
  await kv.put(indexKey(snap.client_id, edit.created_at, edit.id), "", {
    metadata: { status: edit.status },
    ...expiry,
  });
}

export async function deleteSnapshot(kv: KVNamespace, snap: Snapshot): Promise<void> {
  const { edit } = snap;
  await Promise.all([
    kv.delete(snapshotKey(edit.id)),
    kv.delete(indexKey(snap.client_id, edit.created_at, edit.id)),
  ]);
}

export interface ListPage {
  /** Ids with the status their list entry holds (final once terminal; `queued` while in flight). */
  entries: { id: string; status: string | undefined }[];
  cursor: string | null;
}

const FINAL = new Set(["succeeded", "failed", "cancelled"]);

/** Whether a list entry can match a status filter: a final status must match; one in flight may have moved on. */
const mayMatch = (entry: string | undefined, wanted: string | undefined) =>
  !wanted || entry === wanted || (!FINAL.has(wanted) && !FINAL.has(entry ?? ""));

/**
 * A page of one client's edit ids, newest first, optionally of one status. Each KV list call asks
 * for no more than still fits the page, so a cursor never skips a key it did not hand out.
 */
export async function listEditIds(
  kv: KVNamespace,
  clientId: string,
  opts: { limit: number; cursor?: string; status?: string },
): Promise<ListPage> {
  const entries: ListPage["entries"] = [];
  let cursor = opts.cursor;
  for (let round = 0; round < 50; round++) {
    const page = await kv.list<{ status?: string }>({
      prefix: indexPrefix(clientId),
      limit: opts.limit - entries.length,
      cursor,
    });
    for (const k of page.keys) {
      if (mayMatch(k.metadata?.status, opts.status))
        entries.push({ id: k.name.slice(k.name.lastIndexOf(":") + 1), status: k.metadata?.status });
    }
    if (page.list_complete) return { entries, cursor: null };
    cursor = page.cursor;
    if (entries.length >= opts.limit) return { entries, cursor };
  }
  return { entries, cursor: cursor ?? null };
}
