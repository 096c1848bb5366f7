import { OxenErrorBody } from "./schemas";

/**
 * What went wrong talking to Oxen, in Oxen's terms; the routes decide what the caller is told.
 * `kind`: `unknown_model` (404 "Model not found"), `rejected` (400/422: the request), `busy`
 * (429/503), `auth` (401/403: the relay's key), `credits` (402), `unreachable` (network,
 * timeout), `error` (anything else). `uncertain`: Oxen may have acted on the call anyway (no
 * answer, a 5xx, an answer we could not read), so a create must not simply be sent again.
 */
export interface OxenFailure {
  kind: "unknown_model" | "rejected" | "busy" | "auth" | "credits" | "unreachable" | "error";
  /** Oxen's HTTP status, 0 when there was no answer. */
  status: number;
  message: string;
  detail: string | null;
  retryAfter: string | null;
  uncertain: boolean;
}

/** The message inside either of Oxen's error envelopes. */
export function oxenMessage(body: unknown): string | null {
  const parsed = OxenErrorBody.safeParse(body);
  if (!parsed.success) return null;
  const e = parsed.data.error;
  if ("message" in e) return e.message;
  return e.detail ?? e.title ?? e.type ?? null;
}

function kindOf(status: number, detail: string | null): OxenFailure["kind"] {
  if (status === 404 && detail?.startsWith("Model not found")) return "unknown_model";
  if (status === 400 || status === 422) return "rejected";
  if (status === 429 || status === 503) return "busy";
  if (status === 401 || status === 403) return "auth";
  if (status === 402) return "credits";
  return "error";
}

/** A failed Oxen answer. */
export function oxenFailure(status: number, body: unknown, retryAfter: string | null): OxenFailure {
  const detail = oxenMessage(body);
  return {
    kind: kindOf(status, detail),
    status,
    message: `Oxen answered HTTP ${status}${detail ? `: ${detail}` : ""}`,
    detail,
    retryAfter,
    uncertain: status >= 500,
  };
}

/** No answer at all: refused, reset or timed out. */
export const oxenUnreachable = (cause: unknown): OxenFailure => ({
  kind: "unreachable",
  status: 0,
  message: `Oxen could not be reached: ${String((cause as Error)?.message ?? cause)}`,
  detail: null,
  retryAfter: null,
  uncertain: true,
});

/** A 2xx whose body we could not read: Oxen did something we cannot see. */
export const oxenUnreadable = (what: string, status: number): OxenFailure => ({
  kind: "error",
  status,
  message: `unexpected response from ${what}`,
  detail: null,
  retryAfter: null,
  uncertain: true,
});
