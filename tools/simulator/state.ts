import type { FaultRule } from "./faults.ts";
import { clearInjected, createInjected, type InjectedCounts } from "./injected.ts";
import { createRandoms, type Randoms } from "./random.ts";
import { DEFAULT_STREAM_FAULTS, type StreamFaults } from "./stream-faults.ts";
import type { EmitRecord, Generation, ImageFormat, SimulatorConfig } from "./types.ts";

export interface SimulatorState {
  config: SimulatorConfig;
  /** Insertion order = enqueue order. */
  generations: Map<string, Generation>;
  /** Servable result files: id -> format (generation ids and synchronous edit ids). */
  files: Map<string, ImageFormat>;
  faults: FaultRule[];
  streamFaults: StreamFaults;
  counters: { emitted: number; dropped: number; noise: number };
  injected: InjectedCounts;
  /** Seeded from config.seed; replaced on reseed, so read it through the state. */
  random: Randoms;
  log: EmitRecord[];
  logLimit: number;
}

export function createState(config: SimulatorConfig, logLimit: number): SimulatorState {
  return {
    config,
    generations: new Map(),
    files: new Map(),
    faults: [],
    streamFaults: { ...DEFAULT_STREAM_FAULTS },
    counters: { emitted: 0, dropped: 0, noise: 0 },
    injected: createInjected(),
    random: createRandoms(config.seed),
    log: [],
    logLimit,
  };
}

/** Clears everything but the object identities, so holders of `state` keep seeing the live data. */
export function clearState(state: SimulatorState, config: SimulatorConfig): void {
  state.config = config;
  state.generations.clear();
  state.files.clear();
  state.faults.length = 0;
  state.streamFaults = { ...DEFAULT_STREAM_FAULTS };
  state.counters.emitted = 0;
  state.counters.dropped = 0;
  state.counters.noise = 0;
  clearInjected(state.injected);
  state.random = createRandoms(config.seed);
  state.log.length = 0;
}

/** One credit per generation; all or nothing. */
export function spendCredits(state: SimulatorState, count: number): boolean {
  const { credits } = state.config;
  if (credits === null) return true;
  if (credits < count) return false;
  state.config.credits = credits - count;
  return true;
}

export function pushLog(state: SimulatorState, record: EmitRecord): void {
  state.log.push(record);
  if (state.log.length > state.logLimit) state.log.splice(0, state.log.length - state.logLimit);
}
