import { z } from "@hono/zod-openapi";
import { EVENT_TYPES, GENERATION_STATUSES } from "../core/status";
import { boundsProblem } from "./bounds";

export const DEFAULT_MODEL = "qwen-image-edit-2511";
export const ASPECT_RATIOS = ["1:1", "16:9", "9:16", "4:3", "3:4", "3:2", "2:3"] as const;
export const OUTPUT_FORMATS = ["webp", "jpg", "png"] as const;
export const MAX_WEBHOOKS = 5;
export const MAX_METADATA_PAIRS = 16;

const isHttpUrl = (s: string): boolean => {
  try {
    const u = new URL(s);
    return u.protocol === "https:" || u.protocol === "http:";
  } catch {
    return false;
  }
};

const ImageUrl = z
  .string()
  .refine((s) => (s.startsWith("data:image/") ? s.length > 11 : s.length <= 2048 && isHttpUrl(s)), {
    message: "must be an http(s) URL of at most 2048 characters or a data:image/ URL",
  });

export const EventTypeSchema = z.enum(EVENT_TYPES).openapi("EventType");

export const WebhookUrl = z.string().max(2048).refine(isHttpUrl, { message: "must be an http(s) URL" });

const WebhookSpecInput = z.strictObject({
  url: WebhookUrl,
  events: z.array(EventTypeSchema).min(1).max(EVENT_TYPES.length).optional(),
});

/** An Oxen model id, e.g. `qwen-image-edit-2511`; whether it exists is Oxen's to say. */
const ModelId = z
  .string()
  .regex(/^[A-Za-z0-9][\w.\-:/]{0,99}$/, "not a model id")
  .default(DEFAULT_MODEL);

/** The fields the relay itself reads; everything else is a parameter of the model. */
export const RELAY_FIELDS = [
  "model",
  "prompt",
  "input_image",
  "num_generations",
  "webhook",
  "webhooks",
  "metadata",
];

/** qwen-image-edit-2511's own parameters, with Oxen's defaults; its schema is built in. */
const QwenParams = z.strictObject({
  aspect_ratio: z.enum(ASPECT_RATIOS).default("16:9"),
  negative_prompt: z.string().max(10_000).default(" "),
  output_format: z.enum(OUTPUT_FORMATS).default("png"),
});

export const modelParams = (body: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(body).filter(([k]) => !RELAY_FIELDS.includes(k)));

export const EditCreateBody = z
  .object({
    model: ModelId,
    prompt: z.string().min(1).max(10_000),
    input_image: z.union([ImageUrl, z.array(ImageUrl).min(1).max(16)]),
    aspect_ratio: z
      .string()
      .optional()
      .openapi({ description: `qwen-image-edit-2511: ${ASPECT_RATIOS.join(", ")}` }),
    negative_prompt: z.string().optional().openapi({ description: 'qwen-image-edit-2511: default " "' }),
    output_format: z
      .string()
      .optional()
      .openapi({ description: `qwen-image-edit-2511: ${OUTPUT_FORMATS.join(", ")}` }),
    num_generations: z.int().min(1).max(4).default(1),
    webhook: WebhookUrl.optional(),
    webhooks: z.array(WebhookSpecInput).max(MAX_WEBHOOKS).optional(),
    metadata: z
      .record(z.string().min(1).max(40), z.string().max(500))
      .refine((m) => Object.keys(m).length <= MAX_METADATA_PAIRS, {
        message: `at most ${MAX_METADATA_PAIRS} pairs`,
      })
      .optional(),
  })
  .catchall(z.unknown())
  .superRefine(
    (b, ctx) => {
      const webhooks = Array.isArray(b.webhooks) ? b.webhooks.length : 0;
      if (webhooks + (b.webhook ? 1 : 0) > MAX_WEBHOOKS) {
        ctx.addIssue({
          code: "custom",
          message: `at most ${MAX_WEBHOOKS} webhooks in all`,
          path: ["webhooks"],
        });
      }
      for (const [k, v] of Object.entries(modelParams(b))) {
        // Oxen writes results into this namespace: a tenant must not pick the operator's.
        if (k === "target_namespace") ctx.addIssue({ code: "custom", message: "is not accepted", path: [k] });
        const problem = boundsProblem(v);
        if (problem) ctx.addIssue({ code: "custom", message: problem, path: [k] });
      }
      // The default model's parameters are checked here, all at once with the rest; another
      // model's are checked against the schema Oxen publishes for it (models/validate.ts).
      if ((b.model ?? DEFAULT_MODEL) === DEFAULT_MODEL) {
        const r = QwenParams.safeParse(modelParams(b));
        if (!r.success) for (const issue of r.error.issues) ctx.addIssue({ ...issue } as never);
      }
    },
    // Also when other fields failed: every violation is reported in one answer.
    { when: (payload) => typeof payload.value === "object" && payload.value !== null },
  )
  .openapi("EditCreate", {
    description:
      "Any other property is a parameter of the model, checked against the model's request_schema.",
  });

export type EditCreateInput = z.output<typeof EditCreateBody>;

export const WebhookSpecSchema = z
  .object({ url: z.string(), events: z.array(EventTypeSchema) })
  .openapi("WebhookSubscription");
export type WebhookSpec = z.output<typeof WebhookSpecSchema>;

export const EditInputSchema = z
  .object({
    prompt: z.string(),
    input_image: z.union([z.string(), z.array(z.string())]),
    aspect_ratio: z.string().optional(),
    negative_prompt: z.string().optional(),
    output_format: z.string().optional(),
    num_generations: z.int(),
  })
  .catchall(z.unknown());
export type EditInput = z.output<typeof EditInputSchema>;

export const OutputSchema = z
  .object({
    generation_id: z.string(),
    status: z.enum(GENERATION_STATUSES),
    url: z
      .string()
      .nullable()
      .openapi({ description: "The relay's signed file URL (Oxen's if `persisted` is false)" }),
    oxen_url: z.string().optional().openapi({ description: "Oxen's original, presigned (expiring) link" }),
    content_type: z.string().optional(),
    bytes: z.int().optional(),
    sha256: z.string().optional().openapi({ description: "Lowercase hex of the bytes" }),
    persisted: z
      .boolean()
      .optional()
      .openapi({ description: "false when the copy failed after ~60 s of retries" }),
    error: z.string().nullable(),
  })
  .openapi("EditOutput");

export const EditSchema = z
  .object({
    id: z.string().openapi({ example: "edit_3kPq9…" }),
    object: z.literal("edit"),
    status: z.enum(GENERATION_STATUSES),
    model: z.string(),
    input: EditInputSchema,
    outputs: z.array(OutputSchema),
    error: z
      .object({
        type: z
          .string()
          .optional()
          .openapi({ description: "`timeout` when the relay stopped waiting on Oxen" }),
        message: z.string(),
      })
      .nullable(),
    webhooks: z.array(WebhookSpecSchema),
    metadata: z.record(z.string(), z.string()),
    created_at: z.string(),
    completed_at: z.string().nullable(),
    events_url: z.string().optional().openapi({
      description:
        "The edit's event stream, signed: usable with no key (an EventSource) until retention ends",
    }),
  })
  .openapi("Edit");
export type Edit = z.output<typeof EditSchema>;

/** The webhooks of a request as written: the `webhook` shorthand first, each with every event unless filtered. */
export function normaliseWebhooks(body: Pick<EditCreateInput, "webhook" | "webhooks">): WebhookSpec[] {
  const all: WebhookSpec[] = [];
  if (body.webhook) all.push({ url: body.webhook, events: [...EVENT_TYPES] });
  for (const w of body.webhooks ?? []) all.push({ url: w.url, events: w.events ?? [...EVENT_TYPES] });
  return all;
}

/**
 * One entry per URL (compared after URL normalisation: case of the scheme and host, default
 * port, dot segments, fragment, empty query), with the union of their events: one receiver,
 * one delivery per event.
 */
export function mergeWebhooks(specs: WebhookSpec[]): WebhookSpec[] {
  const byUrl = new Map<string, Set<string>>();
  for (const w of specs) {
    // A fragment is never sent, and an empty query is no query: neither makes another receiver.
    const parsed = new URL(w.url);
    parsed.hash = "";
    if (parsed.search === "") parsed.search = "";
    const url = parsed.href;
    const events = byUrl.get(url) ?? new Set<string>();
    for (const e of w.events) events.add(e);
    byUrl.set(url, events);
  }
  return [...byUrl].map(([url, events]) => ({
    url,
    events: EVENT_TYPES.filter((e) => events.has(e)),
  }));
}

/** The edit as webhooks and event streams carry it: without `webhooks`, whose URLs may hold tokens. */
export function publicEdit(edit: Edit): Omit<Edit, "webhooks"> {
  const { webhooks: _w, ...rest } = edit;
  return rest;
}

export const PublicEditSchema = EditSchema.omit({ webhooks: true }).openapi("EditEvent");

/**
 * What is sent to Oxen and shown as the edit's `input`: the default model's parameters with its
 * defaults applied (images always as a list), another model's as given plus `defaults`.
 */
export function editInput(body: EditCreateInput, defaults: Record<string, unknown> = {}): EditInput {
  const params = modelParams(body);
  if (body.model === DEFAULT_MODEL) {
    return {
      prompt: body.prompt,
      input_image: Array.isArray(body.input_image) ? body.input_image : [body.input_image],
      ...QwenParams.parse(params),
      num_generations: body.num_generations,
    };
  }
  return {
    ...defaults,
    ...params,
    prompt: body.prompt,
    input_image: body.input_image,
    num_generations: body.num_generations,
  };
}
