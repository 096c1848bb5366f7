import type { EventRow } from "../webhooks/outbox";

/** Idle streams get a comment this often, so proxies keep them open. */
export const KEEP_ALIVE_MS = 15_000;

const encoder = new TextEncoder();

/** One SSE message: the webhook's exact body as `data`, its webhook-id as `id`. */
export const sseMessage = (e: Pick<EventRow, "event_id" | "type" | "payload">): Uint8Array =>
  encoder.encode(`id: ${e.event_id}\nevent: ${e.type}\ndata: ${e.payload}\n\n`);

export const sseComment = (text: string): Uint8Array => encoder.encode(`: ${text}\n\n`);

/**
 * A live SSE response of one edit's events: those already sent (after `lastEventId`, as an
 * EventSource reconnecting asks), then each new one, closing after the terminal event.
 */
export class EventStreams {
  readonly #open = new Set<{
    writer: WritableStreamDefaultWriter<Uint8Array>;
    timer: ReturnType<typeof setInterval>;
  }>();

  response(past: EventRow[], terminal: boolean, lastEventId: string | null): Response {
    const seen = lastEventId ? past.findIndex((e) => e.event_id === lastEventId) : -1;
    const pending = past.slice(seen + 1);
    // 204 tells an EventSource not to reconnect: it has had everything, and there is no more.
    if (terminal && pending.length === 0) return new Response(null, { status: 204 });
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    const writer = writable.getWriter();
    void writer.write(sseComment("edit events"));
    for (const e of pending) void writer.write(sseMessage(e));
    if (terminal) void writer.close();
    else {
      const entry = {
        writer,
        timer: setInterval(() => {
          writer.write(sseComment("keep-alive")).catch(() => this.#drop(entry));
        }, KEEP_ALIVE_MS),
      };
      this.#open.add(entry);
    }
    return new Response(readable, {
      headers: {
        "content-type": "text/event-stream",
        "cache-control": "no-cache",
        "x-accel-buffering": "no",
      },
    });
  }

  /** Sends an event to every open stream; a terminal one ends them. */
  publish(e: EventRow, terminal: boolean): void {
    for (const entry of [...this.#open]) {
      entry.writer.write(sseMessage(e)).catch(() => this.#drop(entry));
      if (terminal) {
        this.#drop(entry);
        entry.writer.close().catch(() => {});
      }
    }
  }

  #drop(entry: { timer: ReturnType<typeof setInterval> }): void {
    clearInterval(entry.timer);
    for (const e of this.#open) if (e.timer === entry.timer) this.#open.delete(e);
  }
}
