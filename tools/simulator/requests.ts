import { invalidParams, modelNotFound } from "./errors.ts";
import { applyDefaults, findModel, isObject, type ModelDefinition } from "./models.ts";

export type GenerationRequest =
  | {
      ok: true;
      model: ModelDefinition;
      count: number;
      /** Everything but model and num_generations, with optional defaults applied. */
      params: Record<string, unknown>;
      namespace: string | null;
    }
  | { ok: false; response: Response };

const fail = (response: Response): GenerationRequest => ({ ok: false, response });

/** The checks Oxen makes at enqueue; model parameters themselves are not checked here. */
export async function parseGenerationRequest(request: Request): Promise<GenerationRequest> {
  let body: unknown;
  try {
    // Content-Type is not required: curl -d without -H sends form encoding.
    body = JSON.parse(await request.text());
  } catch {
    return fail(invalidParams("Request body must be valid JSON"));
  }
  if (!isObject(body)) return fail(invalidParams("Request body must be a JSON object"));
  const { model: modelName, num_generations, ...rest } = body;
  if (typeof modelName !== "string" || modelName === "") return fail(invalidParams("model is required"));
  const model = findModel(modelName);
  if (!model) return fail(modelNotFound(modelName));
  if (model.media_type !== "image") {
    return fail(invalidParams(`Model ${model.id} is a text-only model and cannot generate images`));
  }
  const count = num_generations ?? 1;
  if (typeof count !== "number" || !Number.isInteger(count) || count < 1 || count > 4) {
    return fail(invalidParams("num_generations must be an integer between 1 and 4"));
  }
  const namespace = typeof rest.target_namespace === "string" ? rest.target_namespace : null;
  return { ok: true, model, count, params: applyDefaults(model, rest), namespace };
}
