import type { Presigner } from "./presign.ts";
import type { Generation } from "./types.ts";

const seconds = (ms: number | null): number | null => (ms === null ? null : ms / 1000);

export const fileName = (gen: Generation): string => `${gen.id}.${gen.format}`;

/** The REST generation object: fixed fields first, then every request parameter echoed at the top level. */
export function toPublicGeneration(gen: Generation, resultUrl: string | null): Record<string, unknown> {
  const out: Record<string, unknown> = {
    generation_id: gen.id,
    model_name: gen.model,
    prompt: gen.params.prompt ?? null,
    media_type: gen.mediaType,
    status: gen.status,
    result_url: gen.status === "succeeded" ? resultUrl : null,
    error_message: gen.errorMessage,
    enqueued_at: seconds(gen.enqueuedAt),
    started_at: seconds(gen.startedAt),
    completed_at: seconds(gen.completedAt),
  };
  for (const [key, value] of Object.entries(gen.params)) if (!(key in out)) out[key] = value;
  return out;
}

/** REST object with a freshly presigned result_url on `origin` (the caller's host). */
export function presentGeneration(
  gen: Generation,
  presigner: Presigner,
  origin: string,
): Record<string, unknown> {
  return toPublicGeneration(gen, gen.status === "succeeded" ? presigner.url(origin, fileName(gen)) : null);
}
