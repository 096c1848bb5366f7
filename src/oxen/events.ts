import type { GenerationUpdate } from "../core/status";
import { GENERATION_STATUSES, type GenerationStatus } from "../core/status";
import type { Generation } from "./schemas";
import { CompletionEvent } from "./schemas";

export const COMPLETION_EVENT = "media_generation_completed";
/** Oxen's error texts are stored in the edit, whose row has a size limit: keep them short. */
export const MAX_ERROR_CHARS = 1_000;
const clip = (s: string | null | undefined): string | null =>
  s == null ? null : s.slice(0, MAX_ERROR_CHARS);

/**
 * Reads one SSE message into an update. Unknown event names, garbage data and unknown
 * statuses yield null: the stream is user-scoped and carries other traffic.
 */
export function parseCompletion(event: string | undefined, data: string): GenerationUpdate | null {
  if (event !== COMPLETION_EVENT) return null;
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    return null;
  }
  const parsed = CompletionEvent.safeParse(json);
  if (!parsed.success) return null;
  const status = parsed.data.status as GenerationStatus;
  if (!GENERATION_STATUSES.includes(status)) return null;
  return {
    generation_id: parsed.data.generation_id,
    status,
    url: parsed.data.url ?? null,
    error: clip(parsed.data.error),
  };
}

/** The update a REST read implies; a generation Oxen no longer knows finished with an unknown outcome. */
export function updateFromRest(id: string, g: Generation | null): GenerationUpdate {
  if (!g) {
    return {
      generation_id: id,
      status: "failed",
      error: "Oxen no longer reports this generation; its outcome is unknown",
      unknown: true,
    };
  }
  return {
    generation_id: id,
    status: g.status,
    url: g.result_url ?? null,
    error: clip(g.error_message),
  };
}
