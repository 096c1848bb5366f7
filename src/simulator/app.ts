import { Hono } from "hono";
import { registerApiRoutes } from "./api-routes.ts";
import { completionData, createCompletionEmitter } from "./completions.ts";
import { applyPatch, type ConfigPatch, configPatchSchema, resolveConfig } from "./config.ts";
import { registerControlRoutes } from "./control-routes.ts";
import { notFound, oxenError } from "./errors.ts";
import { type FaultRule, type FaultSpec, toRule } from "./faults.ts";
import { registerFileRoutes } from "./file-routes.ts";
import { createEngine, type FinishOutcome } from "./lifecycle.ts";
import { createPresigner } from "./presign.ts";
import { fileName, presentGeneration } from "./serialize.ts";
import { createHub } from "./sse.ts";
import { clearState, createState, type SimulatorState } from "./state.ts";
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
export type { SimulatorState } from "./state.ts";
export type * from "./types.ts";

export interface StateSnapshot {
  /** REST generation objects, in enqueue order. */
  generations: Record<string, unknown>[];
  /** Open `/api/events` streams. */
  subscribers: number;
  /** Completion events written to at least one stream. */
  emitted: number;
  /** Completions that fired while no stream was connected. */
  dropped: number;
  /** Noise events written to at least one stream. */
  noise: number;
  credits: number | null;
  config: SimulatorConfig;
  faults: FaultRule[];
  log: EmitRecord[];
}

export interface Simulator {
  app: Hono;
  /** Live in-memory state (mutated in place; `reset` keeps the object). */
  state: SimulatorState;
  /** Drops generations, files, counters, log and faults; restores the creation options. */
  reset(): void;
  /** Validates and applies a config patch; returns the new config. Throws on invalid input. */
  configure(patch: ConfigPatch): SimulatorConfig;
  /** Finishes a generation now; emits the completion event for succeeded/failed only. */
  finish(id: string, status: TerminalStatus, error?: string): FinishOutcome;
  /** Server-side close of every open `/events` stream; returns how many. */
  closeStreams(): number;
  addFault(spec: FaultSpec): FaultRule;
  clearFaults(): void;
  /** `origin` is used for result URLs; default: each generation's enqueue origin. */
  snapshot(origin?: string): StateSnapshot;
  snapshotGeneration(id: string, origin?: string): Record<string, unknown> | undefined;
  /** The completion event payload a generation produced (or would produce), for assertions. */
  completionFor(id: string): CompletionData | undefined;
  readonly subscribers: number;
  /** Stops every timer and closes every stream. */
  dispose(): void;
}

export function createSimulator(options: SimulatorOptions = {}): Simulator {
  const initial = resolveConfig(options);
  const state = createState(structuredClone(initial), options.logLimit ?? 10_000);
  const hub = createHub(
    () => state.config,
    () => state.counters.noise++,
  );
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
      state.config = applyPatch(state.config, configPatchSchema.parse(patch));
      hub.reconfigure();
      if (!wasAuto && state.config.autoComplete) engine.resumeParked();
      return state.config;
    },
    finish: (id, status, error) => engine.finish(id, status, error),
    closeStreams: () => hub.closeAll(),
    addFault(spec) {
      const rule = toRule(spec);
      state.faults.push(rule);
      return rule;
    },
    clearFaults() {
      state.faults.length = 0;
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
        log: state.log,
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
    dispose() {
      engine.clearTimers();
      hub.closeAll();
    },
  };

  registerApiRoutes(app, { state, engine, hub, presigner });
  registerFileRoutes(app, state, presigner);
  registerControlRoutes(app, sim);
  app.notFound(() => notFound());
  app.onError((error) => {
    console.error("simulator error:", error);
    return oxenError(500, "unknown_error");
  });
  return sim;
}
