import { iso } from "../lib/time";
import { type AttemptRow, shownUrl } from "../webhooks/outbox";

/** One attempt as `GET /v1/edits/{id}/deliveries` shows it: the stored row, with ISO times. */
export type Delivery = Omit<AttemptRow, "at" | "next_attempt_at"> & {
  at: string;
  next_attempt_at: string | null;
};

export const toDelivery = (a: AttemptRow): Delivery => ({
  event_id: a.event_id,
  type: a.type,
  url: shownUrl(a.url),
  attempt: a.attempt,
  status_code: a.status_code,
  error: a.error,
  duration_ms: a.duration_ms,
  at: iso(a.at),
  next_attempt_at: a.next_attempt_at === null ? null : iso(a.next_attempt_at),
  response: a.response ?? null,
});
