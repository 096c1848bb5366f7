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
    kv.put(indexKey(snap.client_id, edit.created_at, edit.id), "", {
      metadata: { status: edit.status },
      ...expiry,
    }),
  ]);
}

export async function deleteSnapshot(kv: KVNamespace, snap: Snapshot): Promise<void> {
  const { edit } = snap;
  await Promise.all([
    kv.delete(snapshotKey(edit.id)),
    kv.delete(indexKey(snap.client_id, edit.created_at, edit.id)),
  ]);
}

export interface ListPage {
  ids: string[];
  cursor: string | null;
}

/**
 * A page of one client's edit ids, newest first, optionally of one status. Each KV list call asks
 * for no more than still fits the page, so a cursor never skips a key it did not hand out.
 */
export async function listEditIds(
  kv: KVNamespace,
  clientId: string,
  opts: { limit: number; cursor?: string; status?: string },
): Promise<ListPage> {
  const ids: string[] = [];
  let cursor = opts.cursor;
  for (let round = 0; round < 50; round++) {
    const page = await kv.list<{ status?: string }>({
      prefix: indexPrefix(clientId),
      limit: opts.limit - ids.length,
      cursor,
    });
    for (const k of page.keys) {
      if (!opts.status || k.metadata?.status === opts.status)
        ids.push(k.name.slice(k.name.lastIndexOf(":") + 1));
    }
    if (page.list_complete) return { ids, cursor: null };
    cursor = page.cursor;
    if (ids.length >= opts.limit) return { ids, cursor };
  }
  return { ids, cursor: cursor ?? null };
}
