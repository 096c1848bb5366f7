import type { StreamFaultKind } from "./injected.ts";
import { junkBlock, splitWrites, terminateLines, type WireState } from "./sse-wire.ts";
import type { StreamFaults } from "./stream-faults.ts";

/** Fan-out of the user-scoped `/events` stream: no buffering, no replay, no ids. */
export interface Hub {
  /** A silent stream is never written to (a half-open connection): only a client drop or `closeAll` ends it. */
  subscribe(signal?: AbortSignal, options?: { silent?: boolean }): ReadableStream<Uint8Array>;
  /** Holds a request unanswered: resolves once `signal` aborts or `releaseHeld` runs. */
  hold(signal?: AbortSignal): Promise<void>;
  /** Lets every held request go; returns how many there were. */
  releaseHeld(): number;
  /** Writes one event to every open, non-silent stream; returns how many streams got it. */
  broadcast(event: string, data: unknown): number;
  /** Like broadcast, plus the per-event stream faults (junk, duplicates, close after N). */
  broadcastCompletion(event: string, data: unknown): number;
  /** Server-side close of every open stream, silent ones included; returns how many were closed. */
  closeAll(): number;
  /** Re-reads keep-alive, noise and stream-fault settings. */
  reconfigure(): void;
  /** Open streams, silent ones included. */
  readonly size: number;
  /** Requests held by `hold`. */
  readonly held: number;
}

export interface HubSettings {
  keepAliveMs: number;
  noiseEveryMs: number;
  faults: StreamFaults;
}

export interface HubHooks {
  onNoise?: () => void;
  onInject?: (kind: StreamFaultKind, count?: number) => void;
  /** Randomness for chunk boundaries and mixed line endings. */
  random?: () => number;
}

interface Subscriber extends WireState {
  controller: ReadableStreamDefaultController<Uint8Array> | null;
  keepAlive: ReturnType<typeof setTimeout> | null;
  closer: ReturnType<typeof setTimeout> | null;
  closed: boolean;
  openedAt: number;
  completions: number;
  junkWritten: number;
}

export const SSE_HEADERS = {
  "content-type": "text/event-stream",
  "cache-control": "no-cache",
  "x-accel-buffering": "no",
};

// A reader this far behind is dropped, as a real server would, instead of growing memory forever.
const MAX_BACKLOG_CHUNKS = 10_000;
// Chunked frames are a few hundred one-byte writes each: allow the same backlog in frames, roughly.
const CHUNKED_BACKLOG_FACTOR = 256;

const NOISE = [
  (n: number) =>
    ["deployment_status", { deployment_id: "dep_sim_01", status: "running", sequence: n }] as const,
  (n: number) =>
    ["notification", { kind: "usage", message: "Monthly usage report is ready", sequence: n }] as const,
];

const eventLines = (event: string, data: unknown): string[] => [
  `event: ${event}`,
  `data: ${JSON.stringify(data)}`,
  "",
];

export function createHub(settings: () => HubSettings, hooks: HubHooks = {}): Hub {
  const { onNoise = () => {}, onInject = () => {}, random = Math.random } = hooks;
  const encoder = new TextEncoder();
  const subscribers = new Set<Subscriber>();
  // Kept apart, so no write, timer or per-event fault ever reaches them.
  const silent = new Set<Subscriber>();
  const held = new Set<() => void>();
  let noiseTimer: ReturnType<typeof setInterval> | null = null;
  let noiseCount = 0;

  function drop(sub: Subscriber): boolean {
    if (sub.closed) return false;
    sub.closed = true;
    if (sub.keepAlive) clearTimeout(sub.keepAlive);
    if (sub.closer) clearTimeout(sub.closer);
    subscribers.delete(sub);
    silent.delete(sub);
    try {
      sub.controller?.close();
    } catch {
      // Already cancelled by the client.
    }
    if (subscribers.size === 0) stopNoise();
    return true;
  }

  function armKeepAlive(sub: Subscriber): void {
    if (sub.keepAlive) clearTimeout(sub.keepAlive);
    sub.keepAlive = null;
    const every = settings().keepAliveMs;
    if (every > 0 && !sub.closed) sub.keepAlive = setTimeout(() => write(sub, [": keep-alive", ""]), every);
  }

  function armCloser(sub: Subscriber): void {
    if (sub.closer) clearTimeout(sub.closer);
    sub.closer = null;
    const after = settings().faults.closeAfterMs;
    if (after === null || sub.closed) return;
    sub.closer = setTimeout(
      () => {
        if (drop(sub)) onInject("stream_closed_after_ms");
      },
      Math.max(0, sub.openedAt + after - Date.now()),
    );
  }

  function write(sub: Subscriber, lines: readonly string[]): boolean {
    const controller = sub.controller;
    if (sub.closed || !controller) return false;
    const { lineEndings, chunking } = settings().faults;
    // Checked before writing, so a frame reported undelivered (counted as dropped) is never sent.
    const limit = MAX_BACKLOG_CHUNKS * (chunking === "none" ? 1 : CHUNKED_BACKLOG_FACTOR);
    if ((controller.desiredSize ?? 0) < -limit) {
      drop(sub);
      return false;
    }
    const text = terminateLines(lines, lineEndings, random, sub);
    const pieces = splitWrites(encoder.encode(text), chunking, random);
    try {
      for (const piece of pieces) controller.enqueue(piece);
    } catch {
      drop(sub);
      return false;
    }
    armKeepAlive(sub);
    return true;
  }

  function writeCompletion(sub: Subscriber, lines: readonly string[], duplicate: boolean): boolean {
    const faults = settings().faults;
    for (let i = 0; i < faults.junk; i++) {
      const junk = junkBlock(sub.junkWritten++);
      if (!write(sub, junk)) return false;
      onInject("junk_lines", junk.filter((line) => line !== "").length);
    }
    if (!write(sub, lines)) return false;
    if (duplicate) onInject("events_duplicated");
    if (faults.chunking !== "none") onInject("events_chunked");
    if (faults.lineEndings !== "lf") onInject("events_line_endings");
    return true;
  }

  function deliver(sub: Subscriber, lines: readonly string[]): boolean {
    const faults = settings().faults;
    if (!writeCompletion(sub, lines, false)) return false;
    if (faults.duplicate) writeCompletion(sub, lines, true);
    sub.completions++;
    if (faults.closeAfterEvents !== null && sub.completions >= faults.closeAfterEvents && drop(sub)) {
      onInject("stream_closed_after_events");
    }
    return true;
  }

  function broadcast(event: string, data: unknown): number {
    const lines = eventLines(event, data);
    let delivered = 0;
    for (const sub of [...subscribers]) if (write(sub, lines)) delivered++;
    return delivered;
  }

  function stopNoise(): void {
    if (noiseTimer) clearInterval(noiseTimer);
    noiseTimer = null;
  }

  function startNoise(): void {
    const every = settings().noiseEveryMs;
    if (noiseTimer || every <= 0 || subscribers.size === 0) return;
    noiseTimer = setInterval(() => {
      const make = NOISE[noiseCount % NOISE.length];
      noiseCount++;
      if (!make) return;
      const [event, data] = make(noiseCount);
      if (broadcast(event, { ...data, at: Date.now() / 1000 }) > 0) onNoise();
    }, every);
  }

  return {
    subscribe(signal, options = {}) {
      const quiet = options.silent === true;
      const sub: Subscriber = {
        controller: null,
        keepAlive: null,
        closer: null,
        closed: false,
        openedAt: Date.now(),
        completions: 0,
        junkWritten: 0,
        endsWithCr: false,
      };
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          sub.controller = controller;
          if (quiet) {
            silent.add(sub);
            return;
          }
          subscribers.add(sub);
          armKeepAlive(sub);
          armCloser(sub);
          startNoise();
        },
        cancel() {
          drop(sub);
        },
      });
      if (signal?.aborted) drop(sub);
      else signal?.addEventListener("abort", () => drop(sub), { once: true });
      return stream;
    },
    hold(signal) {
      return new Promise<void>((resolve) => {
        if (signal?.aborted) return resolve();
        const release = (): void => {
          held.delete(release);
          signal?.removeEventListener("abort", release);
          resolve();
        };
        held.add(release);
        signal?.addEventListener("abort", release, { once: true });
      });
    },
    releaseHeld() {
      const waiting = [...held];
      for (const release of waiting) release();
      return waiting.length;
    },
    broadcast,
    broadcastCompletion(event, data) {
      const lines = eventLines(event, data);
      let delivered = 0;
      for (const sub of [...subscribers]) if (deliver(sub, lines)) delivered++;
      return delivered;
    },
    closeAll() {
      const open = [...subscribers, ...silent];
      for (const sub of open) drop(sub);
      return open.length;
    },
    reconfigure() {
      stopNoise();
      startNoise();
      for (const sub of subscribers) {
        armKeepAlive(sub);
        armCloser(sub);
      }
    },
    get size() {
      return subscribers.size + silent.size;
    },
    get held() {
      return held.size;
    },
  };
}
