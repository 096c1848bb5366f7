import { type InputFetch, inputFailure } from "./inputs.ts";
import type { SimulatorState } from "./state.ts";
import type { Generation, GenerationStatus, ImageFormat, TerminalStatus } from "./types.ts";

export interface EnqueueInput {
  model: string;
  count: number;
  params: Record<string, unknown>;
  namespace: string | null;
  origin: string;
  failure: string | null;
  format: ImageFormat;
  /** With `fetchInputs`: the fetch of the request's inputs, shared by its generations. */
  inputs?: Promise<InputFetch[]>;
}

export type FinishOutcome =
  | { ok: true; generation: Generation }
  | { ok: false; reason: "not_found" }
  | { ok: false; reason: "already_finished"; generation: Generation };

export interface Engine {
  enqueue(input: EnqueueInput): Generation[];
  /** Undefined for an unknown id; a finished generation is returned unchanged. */
  cancel(id: string): Generation | undefined;
  finish(id: string, status: TerminalStatus, error?: string): FinishOutcome;
  /** Completes generations parked while autoComplete was off. */
  resumeParked(): void;
  clearTimers(): void;
}

const TERMINAL: ReadonlySet<GenerationStatus> = new Set(["succeeded", "failed", "cancelled"]);
export const isTerminal = (status: GenerationStatus): boolean => TERMINAL.has(status);

export function createEngine(state: SimulatorState, emitCompletion: (gen: Generation) => void): Engine {
  function schedule(gen: Generation, delayMs: number, step: () => void): void {
    if (gen.timer) clearTimeout(gen.timer);
    gen.timer = setTimeout(() => {
      gen.timer = null;
      step();
    }, delayMs);
  }

  function startProcessing(gen: Generation): void {
    gen.status = "processing";
    gen.startedAt = Date.now();
    schedule(gen, state.config.processingMs, () => endProcessing(gen));
  }

  function endProcessing(gen: Generation): void {
    // Oxen cannot finish a job before it has its inputs.
    if (gen.inputsPending) {
      void gen.inputsPending.then(() => {
        const live = state.generations.get(gen.id) === gen && gen.status === "processing";
        if (live && gen.timer === null) endProcessing(gen);
      });
      return;
    }
    if (!state.config.autoComplete) {
      gen.parked = true;
      return;
    }
    settle(gen, gen.failure ? "failed" : "succeeded", gen.failure ?? undefined);
  }

  // State is updated before the event goes out, so a client reacting to it already reads the final status.
  function settle(gen: Generation, status: TerminalStatus, error?: string): void {
    if (gen.timer) clearTimeout(gen.timer);
    gen.timer = null;
    gen.parked = false;
    gen.status = status;
    gen.completedAt = Date.now();
    if (status === "succeeded") state.files.set(gen.id, gen.format);
    if (status === "failed") gen.errorMessage = error ?? "Generation failed";
    if (status !== "cancelled") emitCompletion(gen);
  }

  return {
    enqueue(input) {
      const created: Generation[] = [];
      for (let i = 0; i < input.count; i++) {
        const gen: Generation = {
          id: crypto.randomUUID(),
          model: input.model,
          mediaType: "image",
          status: "queued",
          params: { ...input.params },
          namespace: input.namespace,
          format: input.format,
          failure: input.failure,
          errorMessage: null,
          enqueuedAt: Date.now(),
          startedAt: null,
          completedAt: null,
          origin: input.origin,
          timer: null,
          parked: false,
          inputFetches: null,
          inputsPending: null,
        };
        if (input.inputs) {
          gen.inputsPending = input.inputs.then((fetches) => {
            gen.inputFetches = fetches;
            gen.failure ??= inputFailure(fetches);
            gen.inputsPending = null;
          });
        }
        state.generations.set(gen.id, gen);
        // Older deployments skip the visible queued phase.
        if (state.config.enqueueStatus === "processing") startProcessing(gen);
        else schedule(gen, state.config.queuedMs, () => startProcessing(gen));
        created.push(gen);
      }
      return created;
    },
    cancel(id) {
      const gen = state.generations.get(id);
      if (gen && !isTerminal(gen.status)) settle(gen, "cancelled");
      return gen;
    },
    finish(id, status, error) {
      const gen = state.generations.get(id);
      if (!gen) return { ok: false, reason: "not_found" };
      if (isTerminal(gen.status)) return { ok: false, reason: "already_finished", generation: gen };
      gen.startedAt ??= Date.now();
      settle(gen, status, error);
      return { ok: true, generation: gen };
    },
    resumeParked() {
      for (const gen of state.generations.values()) {
        if (gen.parked && gen.status === "processing") {
          gen.parked = false;
          schedule(gen, state.config.processingMs, () => endProcessing(gen));
        }
      }
    },
    clearTimers() {
      for (const gen of state.generations.values()) {
        if (gen.timer) clearTimeout(gen.timer);
        gen.timer = null;
      }
    },
  };
}
