import { z } from "zod";
import { type ErrorIssue, toIssues } from "../core/issues";

export type JsonSchema = Record<string, unknown>;

/**
 * Checks a model's parameters against the JSON Schema Oxen publishes for it, through zod's own
 * JSON Schema reader (already in the bundle), so the issues read like every other 400's.
 * A schema zod cannot read is not held against the caller: Oxen still checks at run time.
 */
export function validateParams(schema: JsonSchema, params: Record<string, unknown>): ErrorIssue[] {
  let validator: z.ZodType;
  try {
    validator = z.fromJSONSchema(schema as never);
  } catch {
    return [];
  }
  const result = validator.safeParse(params);
  return result.success ? [] : toIssues(result.error.issues);
}

/** The defaults a schema gives its top-level properties, which Oxen would apply. */
export function schemaDefaults(schema: JsonSchema): Record<string, unknown> {
  const props = (schema.properties ?? {}) as Record<string, { default?: unknown }>;
  return Object.fromEntries(
    Object.entries(props)
      .filter(([, p]) => p && typeof p === "object" && "default" in p)
      .map(([k, p]) => [k, p.default]),
  );
}
