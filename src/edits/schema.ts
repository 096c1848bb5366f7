import { z } from "@hono/zod-openapi";
import { EVENT_TYPES, GENERATION_STATUSES } from "./status";

export const DEFAULT_MODEL = "qwen-image-edit-2511";
export const KNOWN_MODELS = [DEFAULT_MODEL] as const;
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

export const EditCreateBody = z
  .strictObject({
    model: z
      .string()
      .default(DEFAULT_MODEL)
      .refine((m) => (KNOWN_MODELS as readonly string[]).includes(m), {
        message: `unknown model; known: ${KNOWN_MODELS.join(", ")}`,
      }),
    prompt: z.string().min(1).max(10_000),
    input_image: z
      .union([ImageUrl, z.array(ImageUrl).min(1).max(16)])
      .transform((v) => (Array.isArray(v) ? v : [v])),
    aspect_ratio: z.enum(ASPECT_RATIOS).default("16:9"),
    negative_prompt: z.string().max(10_000).default(" "),
    output_format: z.enum(OUTPUT_FORMATS).default("png"),
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
  .refine((b) => (b.webhooks?.length ?? 0) + (b.webhook ? 1 : 0) <= MAX_WEBHOOKS, {
    message: `at most ${MAX_WEBHOOKS} webhooks in all`,
    path: ["webhooks"],
  })
  .openapi("EditCreate");

export type EditCreateInput = z.output<typeof EditCreateBody>;

export const WebhookSpecSchema = z
  .object({ url: z.string(), events: z.array(EventTypeSchema) })
  .openapi("WebhookSubscription");
export type WebhookSpec = z.output<typeof WebhookSpecSchema>;

export const EditInputSchema = z.object({
  prompt: z.string(),
  input_image: z.array(z.string()),
  aspect_ratio: z.string(),
  negative_prompt: z.string(),
  output_format: z.string(),
  num_generations: z.int(),
});
export type EditInput = z.output<typeof EditInputSchema>;

export const OutputSchema = z
  .object({
    generation_id: z.string(),
    status: z.enum(GENERATION_STATUSES),
    url: z.string().nullable(),
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
    error: z.object({ message: z.string() }).nullable(),
    webhooks: z.array(WebhookSpecSchema),
    metadata: z.record(z.string(), z.string()),
    created_at: z.string(),
    completed_at: z.string().nullable(),
  })
  .openapi("Edit");
export type Edit = z.output<typeof EditSchema>;

/** The webhooks of a request: the `webhook` shorthand first, each with every event unless filtered. */
export function normaliseWebhooks(body: Pick<EditCreateInput, "webhook" | "webhooks">): WebhookSpec[] {
  const all: WebhookSpec[] = [];
  if (body.webhook) all.push({ url: body.webhook, events: [...EVENT_TYPES] });
  for (const w of body.webhooks ?? []) all.push({ url: w.url, events: w.events ?? [...EVENT_TYPES] });
  return all;
}

export function editInput(body: EditCreateInput): EditInput {
  return {
    prompt: body.prompt,
    input_image: body.input_image,
    aspect_ratio: body.aspect_ratio,
    negative_prompt: body.negative_prompt,
    output_format: body.output_format,
    num_generations: body.num_generations,
  };
}
