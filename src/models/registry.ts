import type { OxenClient } from "../oxen/client";
import type { JsonSchema } from "./validate";

/** How long a model's answer (its schema, or "no such model") is trusted, per isolate. */
const FRESH_MS = 10 * 60_000;

/** What Oxen says of a model: its request schema (null if it publishes none), or that it has no such model. */
export type ModelLookup =
  | { kind: "schema"; schema: JsonSchema | null }
  | { kind: "unknown" }
  | { kind: "unavailable" };

const cache = new Map<string, { answer: Exclude<ModelLookup, { kind: "unavailable" }>; at: number }>();

/**
 * The request schema of an Oxen model (`request_schema`, or `json_request_schema` as the model
 * page calls it). Unknown models are cached like known ones, so guessing names costs Oxen nothing.
 * When Oxen cannot answer, a stale answer is better than none.
 */
export async function lookupModel(oxen: OxenClient, model: string, now = Date.now()): Promise<ModelLookup> {
  const hit = cache.get(model);
  if (hit && now - hit.at < FRESH_MS) return hit.answer;
  const res = await oxen.getModel(model);
  if (!res.ok) return hit ? hit.answer : { kind: "unavailable" };
  let answer: Exclude<ModelLookup, { kind: "unavailable" }>;
  if (res.value === null) answer = { kind: "unknown" };
  else {
    const raw = res.value.request_schema ?? res.value.json_request_schema;
    answer = { kind: "schema", schema: raw && typeof raw === "object" ? (raw as JsonSchema) : null };
  }
  if (cache.size > 1000) cache.clear();
  cache.set(model, { answer, at: now });
  return answer;
}
