import { Receiver } from "../../tools/local/receiver.ts";
import { startSimulator } from "../../tools/simulator/server.ts";

/** What a workerd test file reaches over loopback: the Oxen simulator and a webhook receiver. */
export interface Loopback {
  /** The simulator's `/api`, the stand-in for https://hub.oxen.ai/api. */
  oxenBaseUrl: string;
  receiverUrl: string;
}

type Closable = { close(): Promise<void> };

// On globalThis: vitest may evaluate the config (and so this module) more than once.
const store = globalThis as { [key: symbol]: Set<Closable> | undefined };
const registry = Symbol.for("oxen-edit-relay.loopbacks");
store[registry] ??= new Set();
const open = store[registry];

/**
 * Starts a simulator and a receiver of its own for one test file. Vitest starts a workerd per file
 * and asks for its bindings as it does (vitest.config.ts), so whatever a file steers (faults,
 * autoComplete, stream faults) never reaches another file's requests: the files may run in parallel.
 */
export async function startLoopback(): Promise<Loopback> {
  const [sim, receiver] = await Promise.all([
    startSimulator({
      apiKeys: ["sim_test_key"],
      queuedMs: 20,
      processingMs: 150,
      keepAliveMs: 1_000,
      noiseEveryMs: 500,
    }),
    new Receiver().listen(),
  ]);
  open.add(sim);
  open.add(receiver);
  return { oxenBaseUrl: sim.baseUrl, receiverUrl: receiver.url };
}

/** Stops every simulator and receiver started so far (when the run ends). */
export async function closeLoopbacks(): Promise<void> {
  const all = [...open];
  open.clear();
  await Promise.all(all.map((s) => s.close()));
}
