import type { RelayConfig } from "../core/config";
import type { ErrorIssue } from "../core/issues";
import {
  DEFAULT_MODEL,
  type EditCreateInput,
  type EditInput,
  editInput,
  mergeWebhooks,
  normaliseWebhooks,
} from "../edits/schema";
import { ApiError } from "../http/errors";
import { decodeDataImage } from "../media/data-url";
import { inputKey } from "../media/store";
import { fileUrl } from "../media/urls";
import { lookupModel } from "../models/registry";
import { schemaDefaults, validateParams } from "../models/validate";
import { OxenClient } from "../oxen/client";
import { checkWebhookUrl } from "../webhooks/url-safety";

/** What a create checks beyond its schema, before anything is stored or sent to Oxen. */

const invalid = (message: string, issues: ErrorIssue[]) =>
  new ApiError(400, "invalid_request", message, { issues });

/** The request's webhooks, each URL allowed, one entry per URL. */
export function checkedWebhooks(body: EditCreateInput, allowPrivate: boolean) {
  const webhooks = normaliseWebhooks(body);
  const issues = webhooks.flatMap((w, i) => {
    const problem = checkWebhookUrl(w.url, { allowPrivate });
    const path = body.webhook && i === 0 ? "webhook" : `webhooks.${body.webhook ? i - 1 : i}.url`;
    return problem ? [{ path, message: problem }] : [];
  });
  if (issues.length > 0) throw invalid("A webhook URL is not allowed.", issues);
  return mergeWebhooks(webhooks);
}

/**
 * The edit's input: a model the operator allows; input image URLs under the webhook URL rules
 * (Oxen fetches them: they must not point it at private hosts); the default model's parameters
 * were checked with the body, any other model's against the schema Oxen publishes for it, and
 * only the parameters that schema declares are passed on.
 */
export async function checkedInput(body: EditCreateInput, config: RelayConfig) {
  if (!config.allowedModels.includes(body.model)) {
    throw invalid("The request is invalid.", [
      { path: "model", message: `model not allowed: ${body.model}` },
    ]);
  }
  const images = Array.isArray(body.input_image) ? body.input_image : [body.input_image];
  const imageIssues = images.flatMap((url, i) => {
    if (url.startsWith("data:")) return [];
    const problem = checkWebhookUrl(url, { allowPrivate: config.allowPrivateWebhooks });
    return problem
      ? [{ path: Array.isArray(body.input_image) ? `input_image.${i}` : "input_image", message: problem }]
      : [];
  });
  if (imageIssues.length > 0) throw invalid("An input image URL is not allowed.", imageIssues);
  if (body.model === DEFAULT_MODEL) return editInput(body);

  const oxen = new OxenClient({ baseUrl: config.oxenBaseUrl, apiKey: config.oxenApiKey, timeoutMs: 5_000 });
  const model = await lookupModel(oxen, body.model);
  if (model.kind === "unavailable") {
    throw new ApiError(
      503,
      "oxen_unavailable",
      `Oxen could not describe model ${body.model}; try again shortly.`,
      {
        headers: { "retry-after": "5" },
      },
    );
  }
  if (model.kind === "unknown") {
    throw invalid("The request is invalid.", [{ path: "model", message: `unknown model: ${body.model}` }]);
  }
  const { schema } = model;
  const input = editInput(body, schema ? schemaDefaults(schema) : {});
  const { num_generations: _n, ...params } = input;
  const issues = [...undeclared(schema, params), ...(schema ? validateParams(schema, params) : [])];
  if (issues.length > 0) throw invalid("The request is invalid.", issues);
  return input;
}

/** Parameters the model's schema does not declare (every one, when it publishes no schema). */
function undeclared(schema: Record<string, unknown> | null, params: Record<string, unknown>): ErrorIssue[] {
  const props = schema?.properties;
  const declared = props && typeof props === "object" ? props : {};
  return Object.keys(params)
    .filter((k) => k !== "prompt" && k !== "input_image" && !(k in declared))
    .map((k) => ({ path: k, message: "the model does not declare this parameter" }));
}

/**
 * Moves `data:` images into R2 and replaces each with the relay's signed URL, valid while the
 * edit may run (Oxen fetches it when the job starts). Invalid base64 or anything but an image is
 * a 400 before anything is stored.
 */
export async function storeDataInputs(
  env: Env,
  config: RelayConfig,
  editId: string,
  origin: string,
  input: EditInput,
): Promise<EditInput> {
  const list = Array.isArray(input.input_image) ? input.input_image : [input.input_image];
  if (!list.some((u) => u.startsWith("data:"))) return input;
  const decoded = list.map((url) => (url.startsWith("data:") ? decodeDataImage(url) : null));
  const issues = decoded.flatMap((d, i) =>
    d && !d.ok
      ? [{ path: Array.isArray(input.input_image) ? `input_image.${i}` : "input_image", message: d.problem }]
      : [],
  );
  if (issues.length > 0) throw invalid("An input image is not valid.", issues);
  const expiresAt = Date.now() + (config.maxEditSeconds + config.retentionSeconds + 86_400) * 1000;
  const urls = await Promise.all(
    list.map(async (url, i) => {
      const d = decoded[i];
      if (!d?.ok) return url;
      const key = inputKey(editId, i, d.ext);
      await env.MEDIA.put(key, d.bytes, { httpMetadata: { contentType: d.type } });
      return fileUrl(origin, key, config.fileUrlSecret, expiresAt);
    }),
  );
  return { ...input, input_image: Array.isArray(input.input_image) ? urls : (urls[0] as string) };
}
