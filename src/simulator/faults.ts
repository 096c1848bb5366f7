import type { MiddlewareHandler } from "hono";
import { z } from "zod";
import { oxenError, typeForStatus } from "./errors.ts";

export const FAULT_ROUTES = [
  "enqueue",
  "get",
  "list",
  "cancel",
  "events",
  "models",
  "edit",
  "files",
] as const;
export type FaultRoute = (typeof FAULT_ROUTES)[number];

export const faultSpecSchema = z
  .strictObject({
    route: z.enum(FAULT_ROUTES),
    status: z.number().int().min(400).max(599).optional(),
    count: z.number().int().min(1).default(1),
    retryAfter: z.number().int().min(0).optional(),
    delayMs: z.number().min(0).optional(),
    /** Raw body instead of the JSON envelope (a proxy's HTML error page, say). */
    body: z.string().optional(),
  })
  .refine((f) => f.status !== undefined || f.delayMs !== undefined, {
    message: "a fault needs a status, a delayMs, or both",
  });
export type FaultSpec = z.input<typeof faultSpecSchema>;

export interface FaultRule {
  route: FaultRoute;
  status: number | null;
  remaining: number;
  retryAfter: number | null;
  delayMs: number;
  body: string | null;
}

export function toRule(spec: FaultSpec): FaultRule {
  const f = faultSpecSchema.parse(spec);
  return {
    route: f.route,
    status: f.status ?? null,
    remaining: f.count,
    retryAfter: f.retryAfter ?? null,
    delayMs: f.delayMs ?? 0,
    body: f.body ?? null,
  };
}

/** Consumes one call of the oldest rule for this route. */
export function takeFault(rules: FaultRule[], route: FaultRoute): FaultRule | undefined {
  const index = rules.findIndex((r) => r.route === route);
  const rule = rules[index];
  if (!rule) return undefined;
  rule.remaining--;
  if (rule.remaining <= 0) rules.splice(index, 1);
  return rule;
}

export function faultResponse(rule: FaultRule & { status: number }): Response {
  const headers: Record<string, string> = {};
  if (rule.retryAfter !== null) headers["retry-after"] = String(rule.retryAfter);
  if (rule.body !== null) {
    return new Response(rule.body, {
      status: rule.status,
      headers: { "content-type": "text/html; charset=utf-8", ...headers },
    });
  }
  return oxenError(rule.status, typeForStatus(rule.status), undefined, headers);
}

export function faultGate(rules: () => FaultRule[], route: FaultRoute): MiddlewareHandler {
  return async (_c, next) => {
    const rule = takeFault(rules(), route);
    if (rule && rule.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, rule.delayMs));
    if (rule && rule.status !== null) return faultResponse({ ...rule, status: rule.status });
    await next();
  };
}
