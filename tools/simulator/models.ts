import type { ImageFormat } from "./types.ts";

export interface SchemaProperty {
  type: "string" | "number" | "integer" | "boolean" | "array" | "object";
  description?: string;
  default?: unknown;
  enum?: readonly string[];
  /** "uri" here means a publicly downloadable image URL or a data:image URI. */
  format?: "uri";
  minLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  items?: SchemaProperty;
}

export interface RequestSchema {
  type: "object";
  properties: Record<string, SchemaProperty>;
  required: string[];
}

export interface ModelDefinition {
  id: string;
  name: string;
  description: string;
  developer: string;
  media_type: "image" | "text";
  task: "image_editing" | "chat_completion";
  request_schema: RequestSchema;
}

const SAMPLE_IMAGE =
  "https://hub.oxen.ai/api/repos/ox/Oxen-Character-Simple-Vector-Graphic/file/main/images/reference/bloxy_white_bg.png";
const FORMATS = ["webp", "jpg", "png"] as const;

export const MODELS: readonly ModelDefinition[] = [
  {
    id: "qwen-image-edit-2511",
    name: "Qwen Image Edit - 2511",
    description: "Improved natural-language image editing",
    developer: "Qwen",
    media_type: "image",
    task: "image_editing",
    request_schema: {
      type: "object",
      properties: {
        prompt: {
          type: "string",
          minLength: 1,
          default: "Add a funny hat",
          description:
            "Text description of what you want to generate, or the instruction on how to edit the given image.",
        },
        input_image: {
          type: "array",
          items: { type: "string", format: "uri" },
          minItems: 1,
          default: [SAMPLE_IMAGE],
          description: "Input images to transform or use as reference (supports multiple image urls)",
        },
        aspect_ratio: {
          type: "string",
          enum: ["1:1", "16:9", "9:16", "4:3", "3:4", "3:2", "2:3"],
          default: "16:9",
          description: "Aspect ratio for the generated image",
        },
        negative_prompt: { type: "string", default: " ", description: "Negative prompt for generated image" },
        output_format: {
          type: "string",
          enum: FORMATS,
          default: "png",
          description: "Format of the output images",
        },
      },
      required: ["prompt", "input_image"],
    },
  },
  {
    id: "flux-kontext-dev",
    name: "FLUX.1 Kontext [dev]",
    description: "Text-guided editing of a single image",
    developer: "Black Forest Labs",
    media_type: "image",
    task: "image_editing",
    request_schema: {
      type: "object",
      properties: {
        prompt: {
          type: "string",
          minLength: 1,
          default: "Make it a watercolor painting",
          description: "Instruction on how to edit the image.",
        },
        input_image: {
          type: "string",
          format: "uri",
          default: SAMPLE_IMAGE,
          description: "The image to edit (a single URL)",
        },
        aspect_ratio: {
          type: "string",
          enum: ["match_input_image", "1:1", "16:9", "9:16", "4:3", "3:4", "3:2", "2:3", "21:9", "9:21"],
          default: "match_input_image",
          description: "Aspect ratio for the generated image",
        },
        output_format: {
          type: "string",
          enum: FORMATS,
          default: "webp",
          description: "Format of the output image",
        },
        guidance_scale: {
          type: "number",
          minimum: 0,
          maximum: 10,
          default: 2.5,
          description: "How closely to follow the prompt",
        },
      },
      required: ["prompt", "input_image"],
    },
  },
  {
    id: "llama-3.1-8b-instruct",
    name: "Llama 3.1 8B Instruct",
    description: "Small instruction-tuned text model",
    developer: "Meta",
    media_type: "text",
    task: "chat_completion",
    request_schema: {
      type: "object",
      properties: {
        messages: { type: "array", items: { type: "object" }, minItems: 1, description: "Chat messages" },
        temperature: { type: "number", minimum: 0, maximum: 2, default: 0.7 },
        max_tokens: { type: "integer", minimum: 1, default: 1024 },
      },
      required: ["messages"],
    },
  },
];

export function findModel(id: string): ModelDefinition | undefined {
  return MODELS.find((m) => m.id === id);
}

/** Defaults of optional parameters only: a missing prompt or input_image must fail the job, not be invented. */
export function applyDefaults(
  model: ModelDefinition,
  params: Record<string, unknown>,
): Record<string, unknown> {
  const out = { ...params };
  const { properties, required } = model.request_schema;
  for (const [key, prop] of Object.entries(properties)) {
    if (out[key] === undefined && prop.default !== undefined && !required.includes(key))
      out[key] = prop.default;
  }
  return out;
}

/** First problem with the parameters, as the job's error_message, or null when valid. */
export function validateParams(model: ModelDefinition, params: Record<string, unknown>): string | null {
  const { properties, required } = model.request_schema;
  for (const key of required) {
    if (params[key] === undefined || params[key] === null) return `Missing required parameter: ${key}`;
  }
  for (const [key, prop] of Object.entries(properties)) {
    const value = params[key];
    if (value === undefined) continue;
    const problem = checkValue(key, prop, value);
    if (problem) return problem;
  }
  return null;
}

function checkValue(key: string, prop: SchemaProperty, value: unknown): string | null {
  const shown = JSON.stringify(value);
  switch (prop.type) {
    case "string":
      if (typeof value !== "string") return `Invalid ${key}: expected a string, got ${shown}`;
      if (prop.minLength !== undefined && value.length < prop.minLength)
        return `Invalid ${key}: must not be empty`;
      if (prop.enum && !prop.enum.includes(value)) {
        return `Invalid ${key} ${shown}: must be one of ${prop.enum.join(", ")}`;
      }
      if (prop.format === "uri" && !isImageRef(value)) {
        return `Invalid ${key}: ${shown} is not a downloadable image URL`;
      }
      return null;
    case "number":
    case "integer": {
      if (typeof value !== "number" || !Number.isFinite(value))
        return `Invalid ${key}: expected a number, got ${shown}`;
      if (prop.type === "integer" && !Number.isInteger(value)) return `Invalid ${key}: expected an integer`;
      const low = prop.minimum ?? Number.NEGATIVE_INFINITY;
      const high = prop.maximum ?? Number.POSITIVE_INFINITY;
      if (value < low || value > high) return `Invalid ${key} ${shown}: must be between ${low} and ${high}`;
      return null;
    }
    case "boolean":
      return typeof value === "boolean" ? null : `Invalid ${key}: expected a boolean, got ${shown}`;
    case "object":
      return isObject(value) ? null : `Invalid ${key}: expected an object`;
    case "array": {
      if (!Array.isArray(value)) return `Invalid ${key}: expected an array, got ${shown}`;
      if (prop.minItems !== undefined && value.length < prop.minItems) {
        return `Invalid ${key}: at least ${prop.minItems} item(s) required`;
      }
      for (const [i, item] of value.entries()) {
        const problem = prop.items ? checkValue(`${key}[${i}]`, prop.items, item) : null;
        if (problem) return problem;
      }
      return null;
    }
  }
}

function isImageRef(value: string): boolean {
  if (/^data:image\/[\w.+-]+;base64,/i.test(value)) return true;
  if (!URL.canParse(value)) return false;
  const { protocol } = new URL(value);
  return protocol === "http:" || protocol === "https:";
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function outputFormatOf(params: Record<string, unknown>): ImageFormat {
  const f = params.output_format;
  return f === "jpg" || f === "webp" || f === "png" ? f : "png";
}

export function publicModel(model: ModelDefinition, schemaKey: string): Record<string, unknown> {
  const { request_schema, ...rest } = model;
  return { ...rest, [schemaKey]: request_schema };
}
