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
/** Open streams per edit; beyond it a new one is refused (429). */
export const MAX_STREAMS_PER_EDIT = 10;
/** A stream ends after this long even if the edit has not (clients reconnect). */
export const MAX_STREAM_MS = 15 * 60_000;

interface OpenStream {
  writer: WritableStreamDefaultWriter<Uint8Array>;
  timers: ReturnType<typeof setTimeout>[];
  onClose: () => void;
}

/**
 * Live SSE responses of one edit's events: those already sent (after `lastEventId`, as an
 * EventSource reconnecting asks), then each new one, closing after the terminal event or after
 * 15 minutes, whichever is first. At most ten at once per edit.
 */
export class EventStreams {
  readonly #open = new Set<OpenStream>();

  get count(): number {
    return this.#open.size;
  }

  /** The response, or null when the edit already has as many open streams as it may. */
  response(
    past: EventRow[],
    terminal: boolean,
    lastEventId: string | null,
    onClose: () => void,
  ): Response | null {
    const seen = lastEventId ? past.findIndex((e) => e.event_id === lastEventId) : -1;
    const pending = past.slice(seen + 1);
    // 204 tells an EventSource not to reconnect: it has had everything, and there is no more.
    if (terminal && pending.length === 0) {
      onClose();
      return new Response(null, { status: 204 });
    }
    if (!terminal && this.#open.size >= MAX_STREAMS_PER_EDIT) return null;
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    const writer = writable.getWriter();
    void writer.write(sseComment("edit events"));
    for (const e of pending) void writer.write(sseMessage(e));
    if (terminal) {
      void writer.close();
      onClose();
    } else {
      const entry: OpenStream = { writer, timers: [], onClose };
      entry.timers.push(
        setInterval(() => {
          writer.write(sseComment("keep-alive")).catch(() => this.#end(entry));
        }, KEEP_ALIVE_MS),
        setTimeout(() => this.#end(entry), MAX_STREAM_MS),
      );
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
      entry.writer.write(sseMessage(e)).catch(() => this.#end(entry));
      if (terminal) this.#end(entry);
    }
  }

  /** Ends every open stream (the edit is being erased). */
  endAll(): void {
    for (const entry of [...this.#open]) this.#end(entry);
  }

  #end(entry: OpenStream): void {
    if (!this.#open.delete(entry)) return;
    for (const t of entry.timers) {
      clearTimeout(t);
      clearInterval(t);
    }
    entry.writer.close().catch(() => {});
    entry.onClose();
  }
}

/**
 * The answer to `GET /v1/edits/{id}/events` on the edit's object: the stream, or 404 for no
 * edit, or 429 past the edit's open streams. `release` ends the client's stream lease (given as
 * the `x-stream-lease` header by the route) once the stream is over.
 */
export function serveEvents(
  request: Request,
  snap: { edit: { status: string } } | null,
  streams: EventStreams,
  past: () => EventRow[],
  release: (lease: string) => void,
): Response {
  const lease = request.headers.get("x-stream-lease");
  const done = () => {
    if (lease) release(lease);
  };
  if (!snap) {
    done();
    return new Response(null, { status: 404 });
  }
  const terminal = ["succeeded", "failed", "cancelled"].includes(snap.edit.status);
  const res = streams.response(past(), terminal, request.headers.get("last-event-id"), done);
  if (res) return res;
  done();
  return Response.json(
    {
      error: {
        type: "rate_limited",
        message: `This edit already has ${MAX_STREAMS_PER_EDIT} open event streams.`,
      },
    },
    { status: 429, headers: { "retry-after": "10" } },
  );
}

/** Gives the client's object back a stream's lease (best effort: a lost one expires by itself). */
export function closeStreamLease(env: Env, clientId: string, lease: string): Promise<void> {
  return env.CLIENT.getByName(clientId)
    .closeStream(lease)
    .catch(() => {});
}
