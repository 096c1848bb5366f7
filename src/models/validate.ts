import { Validator } from "@cfworker/json-schema";
import type { ErrorIssue } from "../http/errors";

export type JsonSchema = Record<string, unknown>;

/**
 * Checks a model's parameters against the JSON Schema Oxen publishes for it. Only the leaf
 * errors are reported, one per offending field, as the contract's `issues`.
 */
export function validateParams(schema: JsonSchema, params: Record<string, unknown>): ErrorIssue[] {
  const result = new Validator(schema as never, "2020-12", false).validate(params);
  if (result.valid) return [];
  const issues = new Map<string, string>();
  for (const e of result.errors) {
    if (e.keyword === "properties" || e.keyword === "allOf" || e.keyword === "$ref") continue;
    const path = e.instanceLocation.replace(/^#\/?/, "").split("/").filter(Boolean).join(".");
    if (!issues.has(path)) issues.set(path, e.error);
  }
  return [...issues].map(([path, message]) => ({ path, message }));
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
