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
    /** The next `count` calls (default 1); not with `probability`. */
    count: z.number().int().min(1).optional(),
    /** Each call hit with this chance, until the faults are cleared (chaos runs). */
    probability: z.number().min(0).max(1).optional(),
    retryAfter: z.number().int().min(0).optional(),
    delayMs: z.number().min(0).optional(),
    /** Raw body instead of the JSON envelope (a proxy's HTML error page, say). */
    body: z.string().optional(),
  })
  .refine((f) => f.status !== undefined || f.delayMs !== undefined, {
    message: "a fault needs a status, a delayMs, or both",
  })
  .refine((f) => f.count === undefined || f.probability === undefined, {
    message: "a fault takes a count or a probability, not both",
  });
export type FaultSpec = z.input<typeof faultSpecSchema>;

export interface FaultRule {
  route: FaultRoute;
  status: number | null;
  /** Calls left for a counted rule; null for a probabilistic rule, which stays until cleared. */
  remaining: number | null;
  probability: number | null;
  retryAfter: number | null;
  delayMs: number;
  body: string | null;
}

/** What a fault gate reads and reports to. */
export interface FaultSource {
  rules(): FaultRule[];
  random(): number;
  injected(route: FaultRoute, rule: FaultRule): void;
}

export function toRule(spec: FaultSpec): FaultRule {
  const f = faultSpecSchema.parse(spec);
  const probability = f.probability ?? null;
  return {
    route: f.route,
    status: f.status ?? null,
    remaining: probability === null ? (f.count ?? 1) : null,
    probability,
    retryAfter: f.retryAfter ?? null,
    delayMs: f.delayMs ?? 0,
    body: f.body ?? null,
  };
}

/** Key of a rule in the injected counts: `route:status`, or `route:delay` for a delay-only rule. */
export const faultKey = (route: FaultRoute, rule: FaultRule): string => `${route}:${rule.status ?? "delay"}`;

/** Consumes one call of the oldest counted rule for this route; failing that, rolls the probabilistic ones. */
export function takeFault(
  rules: FaultRule[],
  route: FaultRoute,
  random: () => number = Math.random,
): FaultRule | undefined {
  const index = rules.findIndex((r) => r.route === route && r.remaining !== null);
  const rule = rules[index];
  if (rule && rule.remaining !== null) {
    rule.remaining--;
    if (rule.remaining <= 0) rules.splice(index, 1);
    return rule;
  }
  return rules.find((r) => r.route === route && r.probability !== null && random() < r.probability);
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

export function faultGate(source: FaultSource, route: FaultRoute): MiddlewareHandler {
  return async (_c, next) => {
    const rule = takeFault(source.rules(), route, () => source.random());
    if (rule) source.injected(route, rule);
    if (rule && rule.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, rule.delayMs));
    if (rule && rule.status !== null) return faultResponse({ ...rule, status: rule.status });
    await next();
  };
}
