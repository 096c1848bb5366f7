import { isTerminal } from "../core/status";
import { readSnapshot, type Snapshot } from "./kv";

export const EDIT_ID = /^edit_[0-9A-Za-z]{22}$/;

/**
 * The freshest view of an edit: a terminal KV snapshot is final; anything else (missing, or
 * still in flight, or not yet replicated to this location) is asked of the edit's object.
 */
export async function loadEdit(env: Env, id: string): Promise<Snapshot | null> {
  if (!EDIT_ID.test(id)) return null;
  const cached = await readSnapshot(env.EDITS, id);
  if (cached && isTerminal(cached.edit.status)) return cached;
  const live = await env.EDIT.getByName(id).get();
  return live ?? cached;
}
