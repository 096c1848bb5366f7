// Helpers for the simulator's own tests (HTTP only, no vitest imports).

import { createParser, type EventSourceMessage } from "eventsource-parser";

// biome-ignore lint/suspicious/noExplicitAny: JSON bodies are inspected freely in tests.
export type Json = any;

export interface HttpResult {
  status: number;
  headers: Headers;
  body: Json;
  text: string;
}

export const DEV_KEY = "sim_dev_key";

export async function http(
  url: string,
  init: { method?: string; body?: unknown; key?: string | null; raw?: string } = {},
): Promise<HttpResult> {
  const headers: Record<string, string> = {};
  const key = init.key === undefined ? DEV_KEY : init.key;
  if (key !== null) headers.authorization = `Bearer ${key}`;
  let body: string | undefined = init.raw;
  if (init.body !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(init.body);
  }
  const res = await fetch(url, {
    method: init.method ?? (body === undefined ? "GET" : "POST"),
    headers,
    body,
  });
  const text = await res.text();
  let parsed: Json = null;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not JSON (images, HTML fault bodies).
  }
  return { status: res.status, headers: res.headers, body: parsed, text };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function waitUntil<T>(probe: () => Promise<T> | T, timeoutMs = 3000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(10);
  }
}

export interface SseFrame {
  event?: string;
  data?: string;
  comment?: string;
  /** The raw block, lines joined with \n, to check for fields that must not be there. */
  raw: string;
}

export interface SseClient {
  status: number;
  headers: Headers;
  frames: SseFrame[];
  /** Resolves with the first frame (already received or future) matching. */
  waitFor(match: (frame: SseFrame) => boolean, timeoutMs?: number): Promise<SseFrame>;
  /** Resolves when the server ends the stream (or it is aborted). */
  ended: Promise<void>;
  close(): void;
}

/** Minimal event-stream reader, line-based like Oxen's own example clients. */
export async function openEvents(baseUrl: string, key: string = DEV_KEY): Promise<SseClient> {
  const abort = new AbortController();
  const res = await fetch(`${baseUrl}/events`, {
    headers: { authorization: `Bearer ${key}` },
    signal: abort.signal,
  });
  const frames: SseFrame[] = [];
  const listeners = new Set<() => void>();
  const reader = res.body?.getReader();
  const decoder = new TextDecoder();
  let buffer = "";

  const ended = (async () => {
    if (!reader) return;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
        let cut = buffer.indexOf("\n\n");
        while (cut >= 0) {
          parseBlock(buffer.slice(0, cut), frames);
          buffer = buffer.slice(cut + 2);
          cut = buffer.indexOf("\n\n");
        }
        for (const notify of listeners) notify();
      }
    } catch {
      // Aborted by close().
    }
  })();

  return {
    status: res.status,
    headers: res.headers,
    frames,
    ended,
    close: () => abort.abort(),
    waitFor(match, timeoutMs = 3000) {
      return new Promise((resolve, reject) => {
        const check = (): boolean => {
          const found = frames.find(match);
          if (!found) return false;
          cleanup();
          resolve(found);
          return true;
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`no matching SSE frame within ${timeoutMs} ms; got ${JSON.stringify(frames)}`));
        }, timeoutMs);
        const cleanup = (): void => {
          clearTimeout(timer);
          listeners.delete(onFrame);
        };
        const onFrame = (): void => void check();
        listeners.add(onFrame);
        check();
      });
    },
  };
}

function parseBlock(block: string, frames: SseFrame[]): void {
  const frame: SseFrame = { raw: block };
  for (const line of block.split("\n")) {
    if (line.startsWith(":")) frames.push({ comment: line.slice(1).trim(), raw: line });
    else if (line.startsWith("event: ")) frame.event = line.slice(7);
    else if (line.startsWith("data: "))
      frame.data = frame.data === undefined ? line.slice(6) : `${frame.data}\n${line.slice(6)}`;
  }
  if (frame.event !== undefined || frame.data !== undefined) frames.push(frame);
}

export interface ParsedEvents {
  status: number;
  headers: Headers;
  /** Every dispatched event, in order (event is undefined for a plain "message"). */
  events: EventSourceMessage[];
  comments: string[];
  /** Parser complaints (unknown fields, say): reported, not fatal. */
  errors: string[];
  /** Everything received, decoded, for checking the bytes themselves. */
  raw: string;
  /** Data of the media_generation_completed events, parsed. */
  completions(): Json[];
  ended: Promise<void>;
  close(): void;
}

/** Spec-compliant reader (eventsource-parser): any line endings, any chunking. */
export async function openParsedEvents(baseUrl: string, key: string = DEV_KEY): Promise<ParsedEvents> {
  const abort = new AbortController();
  const res = await fetch(`${baseUrl}/events`, {
    headers: { authorization: `Bearer ${key}` },
    signal: abort.signal,
  });
  const out = {
    events: [] as EventSourceMessage[],
    comments: [] as string[],
    errors: [] as string[],
    raw: "",
  };
  const parser = createParser({
    onEvent: (event) => out.events.push(event),
    onComment: (comment) => out.comments.push(comment),
    onError: (error) => out.errors.push(error.message),
  });
  const reader = res.body?.getReader();
  const decoder = new TextDecoder();
  const ended = (async () => {
    if (!reader) return;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        const text = decoder.decode(value, { stream: true });
        out.raw += text;
        parser.feed(text);
      }
    } catch {
      // Aborted by close().
    }
  })();
  return {
    status: res.status,
    headers: res.headers,
    events: out.events,
    comments: out.comments,
    errors: out.errors,
    completions: () =>
      out.events.filter((e) => e.event === "media_generation_completed").map((e) => JSON.parse(e.data)),
    get raw() {
      return out.raw;
    },
    ended,
    close: () => abort.abort(),
  };
}

export const completionFor =
  (id: string) =>
  (frame: SseFrame): boolean =>
    frame.event === "media_generation_completed" && JSON.parse(frame.data ?? "{}").generation_id === id;

export const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

export const EDIT_REQUEST = {
  model: "qwen-image-edit-2511",
  prompt: "Add a funny hat",
  input_image: [
    "https://hub.oxen.ai/api/repos/ox/Oxen-Character-Simple-Vector-Graphic/file/main/images/reference/bloxy_white_bg.png",
  ],
};
