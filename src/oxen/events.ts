import type { GenerationUpdate } from "../edits/status";
import { GENERATION_STATUSES, type GenerationStatus } from "../edits/status";
import type { Generation } from "./schemas";
import { CompletionEvent } from "./schemas";

export const COMPLETION_EVENT = "media_generation_completed";

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
    error: parsed.data.error ?? null,
  };
}

/** The update a REST read implies; a generation Oxen no longer knows finished with an unknown outcome. */
export function updateFromRest(id: string, g: Generation | null): GenerationUpdate {
  if (!g) {
    return {
      generation_id: id,
      status: "failed",
      error: "Oxen no longer reports this generation; its outcome is unknown",
    };
  }
  return {
    generation_id: id,
    status: g.status,
    url: g.result_url ?? null,
    error: g.error_message ?? null,
  };
}
