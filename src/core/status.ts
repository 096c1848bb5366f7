/** Pure state rules of an edit and its generations. */

export const GENERATION_STATUSES = ["queued", "processing", "succeeded", "failed", "cancelled"] as const;
export type GenerationStatus = (typeof GENERATION_STATUSES)[number];
export type EditStatus = GenerationStatus;

export const TERMINAL: ReadonlySet<GenerationStatus> = new Set(["succeeded", "failed", "cancelled"]);
export const isTerminal = (s: GenerationStatus): boolean => TERMINAL.has(s);

/** Where a succeeded output's bytes are: the relay's own copy (R2), or Oxen's link if copying failed. */
export interface OutputMedia {
  oxen_url: string;
  content_type?: string;
  bytes?: number;
  sha256?: string;
  /** false when the copy failed and `url` is Oxen's (expiring) link. */
  persisted?: boolean;
}

export interface Output extends Partial<OutputMedia> {
  generation_id: string;
  status: GenerationStatus;
  url: string | null;
  error: string | null;
}

/** What is learnt about one generation, from the stream or from REST. */
export interface GenerationUpdate {
  generation_id: string;
  status: GenerationStatus;
  url?: string | null;
  error?: string | null;
  /** Set by the edit once the output is copied (or given up on); `url` is then the relay's. */
  media?: OutputMedia;
  /** Oxen no longer knows the generation (a 404 after it finished): the outcome is a guess. */
  unknown?: boolean;
}

const RANK: Record<GenerationStatus, number> = {
  queued: 0,
  processing: 1,
  succeeded: 2,
  failed: 2,
  cancelled: 2,
};

/** The output after `update`, or null when the update changes nothing (stale, duplicate, or after the end). */
export function applyUpdate(output: Output, update: GenerationUpdate): Output | null {
  if (isTerminal(output.status)) return null;
  if (RANK[update.status] <= RANK[output.status]) return null;
  return {
    generation_id: output.generation_id,
    status: update.status,
    url: update.status === "succeeded" ? (update.url ?? null) : null,
    ...(update.status === "succeeded" && update.media ? update.media : {}),
    error: update.status === "failed" ? (update.error ?? "Generation failed") : null,
  };
}

/**
 * Terminal when every generation is; succeeded if any succeeded, else failed if any failed,
 * else cancelled. Before that: processing once any generation has moved on.
 */
export function aggregateStatus(outputs: readonly Output[]): EditStatus {
  if (outputs.length === 0) return "queued";
  if (outputs.every((o) => isTerminal(o.status))) {
    if (outputs.some((o) => o.status === "succeeded")) return "succeeded";
    if (outputs.some((o) => o.status === "failed")) return "failed";
    return "cancelled";
  }
  return outputs.some((o) => o.status !== "queued") ? "processing" : "queued";
}

/** The edit-level error of a failed edit: the first generation's message from Oxen. */
export function aggregateError(outputs: readonly Output[]): { message: string } | null {
  if (aggregateStatus(outputs) !== "failed") return null;
  const failed = outputs.find((o) => o.status === "failed");
  return { message: failed?.error ?? "Generation failed" };
}

export const EVENT_TYPES = ["edit.succeeded", "edit.failed", "edit.cancelled"] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export function terminalEventType(status: EditStatus): EventType | null {
  if (status === "succeeded") return "edit.succeeded";
  if (status === "failed") return "edit.failed";
  if (status === "cancelled") return "edit.cancelled";
  return null;
}
