import type { Reply } from "../../tools/local/receiver.ts";
import type { RunningSimulator } from "../../tools/simulator/server.ts";

/** Every fault the simulator has, at once (Oxen's legacy 404 and silent streams get windows of their own). */
export function applySimulatorFaults(sim: RunningSimulator): void {
  sim.sim.configure({ keepAliveMs: 2_000, noiseEveryMs: 700 });
  sim.sim.setStreamFaults({
    closeAfterEvents: 40,
    closeAfterMs: 9_000,
    duplicate: true,
    chunking: "random",
    lineEndings: "mixed",
    junk: 2,
    refuse: { status: 401, probability: 0.2 },
  });
  const rest: [string, number, number, number?][] = [
    ["get", 429, 0.08, 1],
    ["get", 429, 0.04],
    ["get", 500, 0.05],
    ["get", 502, 0.05],
    ["list", 500, 0.1],
    ["cancel", 500, 0.15],
    ["cancel", 502, 0.05],
    ["enqueue", 503, 0.04, 1],
    ["enqueue", 429, 0.04, 1],
    ["enqueue", 429, 0.03],
    ["enqueue", 502, 0.03],
  ];
  for (const [route, status, probability, retryAfter] of rest) {
    sim.sim.addFault({ route, status, probability, ...(retryAfter ? { retryAfter } : {}) } as never);
  }
  sim.sim.addFault({ route: "get", delayMs: 1_500, probability: 0.05 } as never);
  sim.sim.addFault({ route: "enqueue", delayMs: 800, probability: 0.03 } as never);
}

/** Queues an Oxen 429 (Retry-After: 1) for the next enqueue: a racing key's first try likely gets it. */
export function queueEnqueue429(sim: RunningSimulator): void {
  sim.sim.addFault({ route: "enqueue", status: 429, count: 1, retryAfter: 1 });
}

/** A receiver that fails a share of attempts: a third 500s, a third too slow, a third resets. */
export function receiverReply(
  random: () => number,
  failure: number,
  timeoutMs: number,
  faults: Record<string, number>,
): Reply {
  const r = random();
  if (r >= failure) return { status: 200 };
  const third = failure / 3;
  if (r < third) {
    faults[500] = (faults[500] ?? 0) + 1;
    return { status: 500 };
  }
  if (r < 2 * third) {
    faults.timeout = (faults.timeout ?? 0) + 1;
    return { status: 200, delayMs: timeoutMs + 500 };
  }
  faults.reset = (faults.reset ?? 0) + 1;
  return { status: 0 };
}

/**
 * Silent Oxen streams, through the simulator's control routes: on, every open stream closed (the
 * hub reconnects into a half-open one), and off again later. A stream opened silent stays silent
 * until the hub drops it (45 s of silence, an abort, the restart) or streams are closed.
 */
export class SilentStreams {
  windows = 0;
  closed = 0;
  readonly #url: string;
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  #on = false;

  constructor(simulatorUrl: string) {
    this.#url = simulatorUrl;
  }

  /**
   * On for `forMs`, and past that until the hub has been served at least one silent stream
   * (at most 30 s more): a window the hub happened not to reconnect in would test nothing.
   */
  async open(forMs: number): Promise<void> {
    const before = await this.#served();
    await this.#control("/_control/stream-faults", { silent: true });
    this.#on = true;
    this.windows++;
    const res = (await this.#control("/_control/streams/close")) as { closed: number };
    this.closed += res.closed;
    const deadline = Date.now() + forMs + 30_000;
    const check = () => {
      const t = setTimeout(
        async () => {
          this.#timers.delete(t);
          if (!this.#on) return;
          if ((await this.#served().catch(() => before)) > before || Date.now() > deadline) void this.off();
          else check();
        },
        this.#timers.size === 0 && Date.now() < deadline - 30_000 ? forMs : 200,
      );
      this.#timers.add(t);
    };
    check();
  }

  async #served(): Promise<number> {
    const res = await fetch(`${this.#url}/_control/state`);
    const state = (await res.json()) as { injected?: { stream_silent?: number } };
    return Number(state.injected?.stream_silent ?? 0);
  }

  async off(): Promise<void> {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    if (!this.#on) return;
    this.#on = false;
    await this.#control("/_control/stream-faults", { silent: false }).catch(() => {});
  }

  async #control(path: string, body?: unknown): Promise<unknown> {
    const res = await fetch(`${this.#url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`chaos: simulator ${path} answered ${res.status}`);
    return res.json();
  }
}
