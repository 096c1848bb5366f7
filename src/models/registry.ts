import { ApiError } from "../http/errors";
import type { OxenClient } from "../oxen/client";
import type { JsonSchema } from "./validate";

/** How long a model's schema is trusted once read from Oxen, per isolate. */
const FRESH_MS = 10 * 60_000;
const cache = new Map<string, { schema: JsonSchema | null; at: number }>();

/**
 * The request schema of an Oxen model (`request_schema`, or `json_request_schema` as the model
 * page calls it), or null if Oxen publishes none. An unknown model is the caller's 400; an Oxen
 * that cannot answer is our 503, since the request cannot be checked.
 */
export async function modelSchema(
  oxen: OxenClient,
  model: string,
  now = Date.now(),
): Promise<JsonSchema | null> {
  const hit = cache.get(model);
  if (hit && now - hit.at < FRESH_MS) return hit.schema;
  const res = await oxen.getModel(model);
  if (!res.ok) {
    if (hit) return hit.schema;
    throw new ApiError(503, "oxen_unavailable", `Oxen could not describe model ${model}; try again shortly.`);
  }
  if (res.value === null) {
    throw new ApiError(400, "invalid_request", "The request is invalid.", {
      issues: [{ path: "model", message: `unknown model: ${model}` }],
    });
  }
  const raw = res.value.request_schema ?? res.value.json_request_schema;
  const schema = raw && typeof raw === "object" ? (raw as JsonSchema) : null;
  cache.set(model, { schema, at: now });
  return schema;
}
