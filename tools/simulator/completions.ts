import type { Presigner } from "./presign.ts";
import { fileName } from "./serialize.ts";
import type { Hub } from "./sse.ts";
import { pushLog, type SimulatorState } from "./state.ts";
import type { CompletionData, EmittedEvent, Generation } from "./types.ts";

export const COMPLETION_EVENT = "media_generation_completed";

export function completionData(gen: Generation, url: string): CompletionData {
  // Key order as in Oxen's docs: naive clients match on the raw data line.
  const head = { generation_id: gen.id } as const;
  return gen.status === "succeeded"
    ? { ...head, status: "succeeded", media_type: gen.mediaType, model: gen.model, url }
    : {
        ...head,
        status: "failed",
        media_type: gen.mediaType,
        model: gen.model,
        error: gen.errorMessage ?? "Generation failed",
      };
}

/** Sends `media_generation_completed` to the streams open right now and keeps the books on it. */
export function createCompletionEmitter(
  state: SimulatorState,
  hub: Hub,
  presigner: Presigner,
  onEmit?: (event: EmittedEvent) => void,
): (gen: Generation) => void {
  return (gen) => {
    if (gen.status !== "succeeded" && gen.status !== "failed") return;
    const data = completionData(gen, presigner.url(gen.origin, fileName(gen)));
    const at_ms = Date.now();
    const delivered_to = hub.broadcastCompletion(COMPLETION_EVENT, data);
    if (delivered_to > 0) {
      state.counters.emitted++;
    } else {
      state.counters.dropped++;
      state.injected.events_dropped++;
    }
    pushLog(state, { generation_id: gen.id, status: data.status, model: gen.model, at_ms, delivered_to });
    try {
      onEmit?.({ event: COMPLETION_EVENT, data, at_ms, delivered_to });
    } catch (error) {
      console.error("simulator onEmit hook threw:", error);
    }
  };
}
