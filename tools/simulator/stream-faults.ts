import { z } from "zod";
import { oxenError, typeForStatus } from "./errors.ts";

export const CHUNKING = ["none", "byte", "random"] as const;
export const LINE_ENDINGS = ["lf", "crlf", "cr", "mixed"] as const;
export type Chunking = (typeof CHUNKING)[number];
export type LineEndings = (typeof LINE_ENDINGS)[number];

export interface StreamRefusal {
  status: number;
  /** Share of `/api/events` requests refused, 0..1. */
  probability: number;
  retryAfter: number | null;
  /** Raw body instead of Oxen's JSON envelope. */
  body: string | null;
}

/** Faults of `GET /api/events`; all off by default, never part of the creation options. */
export interface StreamFaults {
  /** Close each stream after this many completion events written to it (a duplicate pair counts once). */
  closeAfterEvents: number | null;
  /** Close each stream this long after it opened. */
  closeAfterMs: number | null;
  /** Write each completion event twice. */
  duplicate: boolean;
  /** "byte": one write per byte; "random": writes of 1 to 24 bytes. Applies to every frame. */
  chunking: Chunking;
  /** Line terminator of every line written; "mixed" picks one per line. */
  lineEndings: LineEndings;
  /** Junk blocks written before each completion event (kinds taken in turn). */
  junk: number;
  refuse: StreamRefusal | null;
  /**
   * Half-open connection: a stream opened while this is on answers 200 with the event-stream headers,
   * then writes nothing at all (no keep-alives, events, noise or junk) until the client drops it or
   * the simulator closes streams; completions lose that reader. Turning it off leaves such streams silent.
   */
  silent: boolean;
  /** A stream request made while this is on gets no response headers; it is held until the client aborts. */
  hangOnOpen: boolean;
}

export const DEFAULT_STREAM_FAULTS: StreamFaults = {
  closeAfterEvents: null,
  closeAfterMs: null,
  duplicate: false,
  chunking: "none",
  lineEndings: "lf",
  junk: 0,
  refuse: null,
  silent: false,
  hangOnOpen: false,
};

const refusalSchema = z.strictObject({
  status: z.number().int().min(400).max(599),
  probability: z.number().min(0).max(1).default(1),
  retryAfter: z.number().int().min(0).nullable().default(null),
  body: z.string().nullable().default(null),
});

/** Body of `POST /_control/stream-faults`: a partial update; null turns a setting off. */
export const streamFaultsPatchSchema = z.strictObject({
  closeAfterEvents: z.number().int().min(1).nullable().optional(),
  closeAfterMs: z.number().min(1).nullable().optional(),
  duplicate: z.boolean().optional(),
  chunking: z.enum(CHUNKING).optional(),
  lineEndings: z.enum(LINE_ENDINGS).optional(),
  junk: z.number().int().min(0).max(100).optional(),
  refuse: refusalSchema.nullable().optional(),
  silent: z.boolean().optional(),
  hangOnOpen: z.boolean().optional(),
});
export type StreamFaultsPatch = z.input<typeof streamFaultsPatchSchema>;

export function applyStreamFaults(base: StreamFaults, patch: StreamFaultsPatch): StreamFaults {
  const parsed = streamFaultsPatchSchema.parse(patch);
  const next: StreamFaults = { ...base };
  for (const [key, value] of Object.entries(parsed)) {
    if (value !== undefined) (next as unknown as Record<string, unknown>)[key] = value;
  }
  return next;
}

/** The refusal for this request, if the dice say so. */
export function refusal(faults: StreamFaults, random: () => number): Response | null {
  const refuse = faults.refuse;
  if (!refuse || random() >= refuse.probability) return null;
  const headers: Record<string, string> = {};
  if (refuse.retryAfter !== null) headers["retry-after"] = String(refuse.retryAfter);
  if (refuse.body !== null) {
    return new Response(refuse.body, {
      status: refuse.status,
      headers: { "content-type": "text/html; charset=utf-8", ...headers },
    });
  }
  return oxenError(refuse.status, typeForStatus(refuse.status), undefined, headers);
}
