import { Hono } from "hono";
import { registerApiRoutes } from "./api-routes.ts";
import { completionData, createCompletionEmitter } from "./completions.ts";
import { applyPatch, type ConfigPatch, configPatchSchema, resolveConfig } from "./config.ts";
import { registerControlRoutes } from "./control-routes.ts";
import { notFound, oxenError } from "./errors.ts";
import { type FaultRule, type FaultSource, type FaultSpec, faultKey, toRule } from "./faults.ts";
import { registerFileRoutes } from "./file-routes.ts";
import { countRest, type InjectedCounts } from "./injected.ts";
import type { InputFetch } from "./inputs.ts";
import { createEngine, type FinishOutcome } from "./lifecycle.ts";
import { createPresigner } from "./presign.ts";
import { createRandoms } from "./random.ts";
import { fileName, presentGeneration } from "./serialize.ts";
import { createHub } from "./sse.ts";
import { clearState, createState, type SimulatorState } from "./state.ts";
import {
  applyStreamFaults,
  DEFAULT_STREAM_FAULTS,
  type StreamFaults,
  type StreamFaultsPatch,
} from "./stream-faults.ts";
import type {
  CompletionData,
  EmitRecord,
  Generation,
  SimulatorConfig,
  SimulatorOptions,
  TerminalStatus,
} from "./types.ts";

export type { ConfigPatch } from "./config.ts";
export type { FaultRoute, FaultRule, FaultSpec } from "./faults.ts";
export type { InjectedCounts } from "./injected.ts";
export type { InputFetch } from "./inputs.ts";
export type { SimulatorState } from "./state.ts";
export type { StreamFaults, StreamFaultsPatch, StreamRefusal } from "./stream-faults.ts";
export type * from "./types.ts";

export interface StateSnapshot {
  /** REST generation objects, in enqueue order. */
  generations: Record<string, unknown>[];
  /** Open `/api/events` streams, silent ones included. */
  subscribers: number;
  /** Completion events written to at least one stream. */
  emitted: number;
  /** Completions that fired while no stream was connected, or only silent ones. */
  dropped: number;
  /** Noise events written to at least one stream. */
  noise: number;
  credits: number | null;
  config: SimulatorConfig;
  faults: FaultRule[];
  streamFaults: StreamFaults;
  /** Faults actually injected since the last reset, by kind (a copy). */
  injected: InjectedCounts;
  log: EmitRecord[];
  /** With `fetchInputs`: per generation id, what fetching each http(s) input gave (once done). */
  inputFetches: Record<string, InputFetch[]>;
}

export interface Simulator {
  app: Hono;
  /** Live in-memory state (mutated in place; `reset` keeps the object). */
  state: SimulatorState;
  /** Drops generations, files, counters, log, faults and stream faults; restores the creation options. */
  reset(): void;
  /** Validates and applies a config patch; returns the new config. Throws on invalid input. A `seed` key reseeds. */
  configure(patch: ConfigPatch): SimulatorConfig;
  /** Finishes a generation now; emits the completion event for succeeded/failed only. */
  finish(id: string, status: TerminalStatus, error?: string): FinishOutcome;
  /** Every result link handed out so far answers 403 "Request has expired" from now on (as after Oxen's hour); fresh links work. */
  expireResultUrls(): void;
  /** With `fetchInputs`: what fetching the generation's http(s) inputs gave; undefined while pending, when off, or unknown. */
  inputFetches(id: string): InputFetch[] | undefined;
  /** Server-side close of every open `/events` stream; returns how many. */
  closeStreams(): number;
  /** Counted (`count`, default 1) or, with `probability`, persistent until cleared. */
  addFault(spec: FaultSpec): FaultRule;
  /** Clears every REST fault rule, counted and probabilistic. */
  clearFaults(): void;
  /** Validates and applies a partial stream-fault update; returns the new settings. Throws on invalid input. */
  setStreamFaults(patch: StreamFaultsPatch): StreamFaults;
  /** Turns every stream fault off; streams already silent and requests already held stay so until the client drops them. */
  clearStreamFaults(): void;
  /** `origin` is used for result URLs; default: each generation's enqueue origin. */
  snapshot(origin?: string): StateSnapshot;
  snapshotGeneration(id: string, origin?: string): Record<string, unknown> | undefined;
  /** The completion event payload a generation produced (or would produce), for assertions. */
  completionFor(id: string): CompletionData | undefined;
  readonly subscribers: number;
  /** `/api/events` requests held without an answer by the `hangOnOpen` stream fault. */
  readonly heldStreams: number;
  /** Stops every timer, closes every stream and lets held stream requests go (answered 503). */
  dispose(): void;
}

export function createSimulator(options: SimulatorOptions = {}): Simulator {
  const initial = resolveConfig(options);
  const state = createState(structuredClone(initial), options.logLimit ?? 10_000);
  const hub = createHub(
    () => ({
      keepAliveMs: state.config.keepAliveMs,
      noiseEveryMs: state.config.noiseEveryMs,
      faults: state.streamFaults,
    }),
    {
      onNoise: () => state.counters.noise++,
      onInject: (kind, count = 1) => {
        state.injected[kind] += count;
      },
      random: () => state.random.stream(),
    },
  );
  const faults: FaultSource = {
    rules: () => state.faults,
    random: () => state.random.rest(),
    injected: (route, rule) => countRest(state.injected, faultKey(route, rule)),
  };
  const presigner = createPresigner(() => state.config.resultUrlTtlSeconds);
  const engine = createEngine(state, createCompletionEmitter(state, hub, presigner, options.onEmit));
  const app = new Hono();

  const present = (gen: Generation, origin?: string) =>
    presentGeneration(gen, presigner, origin ?? gen.origin);

  const sim: Simulator = {
    app,
    state,
    reset() {
      engine.clearTimers();
      clearState(state, structuredClone(initial));
      hub.reconfigure();
    },
    configure(patch) {
      const wasAuto = state.config.autoComplete;
      const parsed = configPatchSchema.parse(patch);
      state.config = applyPatch(state.config, parsed);
      if (parsed.seed !== undefined) state.random = createRandoms(state.config.seed);
      hub.reconfigure();
      if (!wasAuto && state.config.autoComplete) engine.resumeParked();
      return state.config;
    },
    finish: (id, status, error) => engine.finish(id, status, error),
    expireResultUrls: () => presigner.expireAll(),
    inputFetches: (id) => state.generations.get(id)?.inputFetches ?? undefined,
    closeStreams: () => hub.closeAll(),
    addFault(spec) {
      const rule = toRule(spec);
      state.faults.push(rule);
      return rule;
    },
    clearFaults() {
      state.faults.length = 0;
    },
    setStreamFaults(patch) {
      state.streamFaults = applyStreamFaults(state.streamFaults, patch);
      hub.reconfigure();
      return state.streamFaults;
    },
    clearStreamFaults() {
      state.streamFaults = { ...DEFAULT_STREAM_FAULTS };
      hub.reconfigure();
    },
    snapshot(origin) {
      return {
        generations: [...state.generations.values()].map((gen) => present(gen, origin)),
        subscribers: hub.size,
        emitted: state.counters.emitted,
        dropped: state.counters.dropped,
        noise: state.counters.noise,
        credits: state.config.credits,
        config: state.config,
        faults: state.faults,
        streamFaults: state.streamFaults,
        injected: structuredClone(state.injected),
        log: state.log,
        inputFetches: Object.fromEntries(
          [...state.generations.values()].flatMap((g) => (g.inputFetches ? [[g.id, g.inputFetches]] : [])),
        ),
      };
    },
    snapshotGeneration(id, origin) {
      const gen = state.generations.get(id);
      return gen && present(gen, origin);
    },
    completionFor(id) {
      const gen = state.generations.get(id);
      if (!gen || (gen.status !== "succeeded" && gen.status !== "failed")) return undefined;
      return completionData(gen, presigner.url(gen.origin, fileName(gen)));
    },
    get subscribers() {
      return hub.size;
    },
    get heldStreams() {
      return hub.held;
    },
    dispose() {
      engine.clearTimers();
      hub.closeAll();
      hub.releaseHeld();
    },
  };

  registerApiRoutes(app, { state, engine, hub, presigner, faults });
  registerFileRoutes(app, state, presigner, faults);
  registerControlRoutes(app, sim);
  app.notFound(() => notFound());
  app.onError((error) => {
    console.error("simulator error:", error);
    return oxenError(500, "unknown_error");
  });
  return sim;
}
