import type { InputFetch } from "./inputs.ts";

export type GenerationStatus = "queued" | "processing" | "succeeded" | "failed" | "cancelled";
export type TerminalStatus = "succeeded" | "failed" | "cancelled";
export type ImageFormat = "png" | "jpg" | "webp";
export type EnqueueStatus = "queued" | "processing";
export type SchemaKey = "request_schema" | "json_request_schema";

/** Everything `/_control/config` can change; `reset` restores the values given at creation. */
export interface SimulatorConfig {
  apiKeys: string[];
  queuedMs: number;
  processingMs: number;
  /** Wait of the synchronous edit; null means processingMs. */
  syncMs: number | null;
  /** 0 disables keep-alive comments. */
  keepAliveMs: number;
  /** 0 disables the unrelated noise events. */
  noiseEveryMs: number;
  autoComplete: boolean;
  enqueueStatus: EnqueueStatus;
  legacy404AfterFinish: boolean;
  /** Remaining credits, one per generation; null = unlimited. */
  credits: number | null;
  resultUrlTtlSeconds: number;
  /** Name of the schema field in the model object (Oxen docs use both). */
  modelSchemaKey: SchemaKey;
  /** At enqueue, GET every http(s) `input_image` URL (as Oxen must); a job whose input cannot be fetched ends `failed`. */
  fetchInputs: boolean;
  /** Seeds the randomness of probabilistic faults, chunk boundaries and mixed line endings; null = unseeded. Setting it reseeds. */
  seed: number | null;
}

export interface CompletionData {
  generation_id: string;
  status: "succeeded" | "failed";
  media_type: "image";
  model: string;
  url?: string;
  error?: string;
}

export interface EmittedEvent {
  event: "media_generation_completed";
  data: CompletionData;
  /** Date.now() just before the event was written to the streams. */
  at_ms: number;
  delivered_to: number;
}

export interface EmitRecord {
  generation_id: string;
  status: "succeeded" | "failed";
  model: string;
  at_ms: number;
  delivered_to: number;
}

export interface SimulatorOptions extends Partial<SimulatorConfig> {
  /** Called synchronously for every completion event, delivered or dropped. */
  onEmit?: (event: EmittedEvent) => void;
  /** How many emit records `/_control/state` keeps (default 10,000). */
  logLimit?: number;
}

export interface Generation {
  id: string;
  model: string;
  mediaType: "image";
  status: GenerationStatus;
  /** Request parameters after defaults, echoed at the top level of the REST object. */
  params: Record<string, unknown>;
  namespace: string | null;
  format: ImageFormat;
  /** Parameter problem found at enqueue, revealed only when processing ends (as Oxen does). */
  failure: string | null;
  errorMessage: string | null;
  /** Milliseconds; the REST object shows seconds. */
  enqueuedAt: number;
  startedAt: number | null;
  completedAt: number | null;
  /** Origin of the enqueue request, for the url of the completion event. */
  origin: string;
  timer: ReturnType<typeof setTimeout> | null;
  /** Processing ended while autoComplete was off. */
  parked: boolean;
  /** With `fetchInputs`: what fetching each http(s) input gave (null until done, or when off). */
  inputFetches: InputFetch[] | null;
  /** With `fetchInputs`: settles when the inputs are fetched; processing does not end before. */
  inputsPending: Promise<void> | null;
}
