/** Fan-out of the user-scoped `/events` stream: no buffering, no replay, no ids. */
export interface Hub {
  subscribe(signal?: AbortSignal): ReadableStream<Uint8Array>;
  /** Writes one event to every open stream; returns how many streams got it. */
  broadcast(event: string, data: unknown): number;
  /** Server-side close of every open stream; returns how many were closed. */
  closeAll(): number;
  /** Re-reads keep-alive and noise settings. */
  reconfigure(): void;
  readonly size: number;
}

export interface HubSettings {
  keepAliveMs: number;
  noiseEveryMs: number;
}

interface Subscriber {
  controller: ReadableStreamDefaultController<Uint8Array> | null;
  keepAlive: ReturnType<typeof setTimeout> | null;
  closed: boolean;
}

export const SSE_HEADERS = {
  "content-type": "text/event-stream",
  "cache-control": "no-cache",
  "x-accel-buffering": "no",
};

// A reader this far behind is dropped, as a real server would, instead of growing memory forever.
const MAX_BACKLOG_CHUNKS = 10_000;

const NOISE = [
  (n: number) =>
    ["deployment_status", { deployment_id: "dep_sim_01", status: "running", sequence: n }] as const,
  (n: number) =>
    ["notification", { kind: "usage", message: "Monthly usage report is ready", sequence: n }] as const,
];

export function createHub(settings: () => HubSettings, onNoise: () => void = () => {}): Hub {
  const encoder = new TextEncoder();
  const subscribers = new Set<Subscriber>();
  let noiseTimer: ReturnType<typeof setInterval> | null = null;
  let noiseCount = 0;

  function drop(sub: Subscriber): void {
    if (sub.closed) return;
    sub.closed = true;
    if (sub.keepAlive) clearTimeout(sub.keepAlive);
    subscribers.delete(sub);
    try {
      sub.controller?.close();
    } catch {
      // Already cancelled by the client.
    }
    if (subscribers.size === 0) stopNoise();
  }

  function armKeepAlive(sub: Subscriber): void {
    if (sub.keepAlive) clearTimeout(sub.keepAlive);
    sub.keepAlive = null;
    const every = settings().keepAliveMs;
    if (every > 0 && !sub.closed) sub.keepAlive = setTimeout(() => write(sub, ": keep-alive\n\n"), every);
  }

  function write(sub: Subscriber, frame: string): boolean {
    const controller = sub.controller;
    if (sub.closed || !controller) return false;
    try {
      controller.enqueue(encoder.encode(frame));
    } catch {
      drop(sub);
      return false;
    }
    if ((controller.desiredSize ?? 0) < -MAX_BACKLOG_CHUNKS) {
      drop(sub);
      return false;
    }
    armKeepAlive(sub);
    return true;
  }

  function broadcast(event: string, data: unknown): number {
    const frame = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    let delivered = 0;
    for (const sub of [...subscribers]) if (write(sub, frame)) delivered++;
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
    subscribe(signal) {
      const sub: Subscriber = { controller: null, keepAlive: null, closed: false };
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          sub.controller = controller;
          subscribers.add(sub);
          armKeepAlive(sub);
          startNoise();
        },
        cancel() {
          drop(sub);
        },
      });
      signal?.addEventListener("abort", () => drop(sub), { once: true });
      return stream;
    },
    broadcast,
    closeAll() {
      const open = [...subscribers];
      for (const sub of open) drop(sub);
      return open.length;
    },
    reconfigure() {
      stopNoise();
      startNoise();
      for (const sub of subscribers) armKeepAlive(sub);
    },
    get size() {
      return subscribers.size;
    },
  };
}
