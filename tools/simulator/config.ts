import { z } from "zod";
import type { SimulatorConfig, SimulatorOptions } from "./types.ts";

export const DEFAULT_CONFIG: SimulatorConfig = {
  apiKeys: ["sim_dev_key"],
  queuedMs: 200,
  processingMs: 1000,
  syncMs: null,
  keepAliveMs: 15_000,
  noiseEveryMs: 20_000,
  autoComplete: true,
  enqueueStatus: "queued",
  legacy404AfterFinish: false,
  credits: null,
  resultUrlTtlSeconds: 3600,
  modelSchemaKey: "request_schema",
  fetchInputs: false,
  seed: null,
};

const ms = z.number().min(0);

const configFields = {
  apiKeys: z.array(z.string().min(1)).min(1).optional(),
  queuedMs: ms.optional(),
  processingMs: ms.optional(),
  syncMs: ms.nullable().optional(),
  keepAliveMs: ms.optional(),
  noiseEveryMs: ms.optional(),
  autoComplete: z.boolean().optional(),
  enqueueStatus: z.enum(["queued", "processing"]).optional(),
  legacy404AfterFinish: z.boolean().optional(),
  credits: z.number().int().min(0).nullable().optional(),
  resultUrlTtlSeconds: z.number().int().min(1).optional(),
  modelSchemaKey: z.enum(["request_schema", "json_request_schema"]).optional(),
  fetchInputs: z.boolean().optional(),
  seed: z.number().int().nullable().optional(),
};

/** Body of `POST /_control/config`: unknown keys are an error there. */
export const configPatchSchema = z.strictObject(configFields);
export type ConfigPatch = z.infer<typeof configPatchSchema>;

export function applyPatch(base: SimulatorConfig, patch: ConfigPatch): SimulatorConfig {
  const next: SimulatorConfig = { ...base, apiKeys: [...base.apiKeys] };
  for (const [key, value] of Object.entries(patch)) {
    if (value !== undefined) (next as unknown as Record<string, unknown>)[key] = value;
  }
  return next;
}

/** Options may carry non-config keys (onEmit, logLimit): those are stripped, not rejected. */
export function resolveConfig(options: SimulatorOptions): SimulatorConfig {
  return applyPatch(DEFAULT_CONFIG, z.object(configFields).parse(options));
}

export function formatIssues(error: z.ZodError): string {
  return error.issues
    .map((i) => (i.path.length ? `${i.path.join(".")}: ${i.message}` : i.message))
    .join("; ");
}
