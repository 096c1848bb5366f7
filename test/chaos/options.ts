/** What a chaos run does; `npm run chaos` uses the defaults, `test/e2e/chaos.test.ts` a small set. */
export interface ChaosOptions {
  edits: number;
  webhooksPerEdit: number;
  concurrency: number;
  clients: number;
  seed: number;
  /** Abort the hub / a random edit object this often, in ms. */
  hubAbortEveryMs: number;
  editAbortEveryMs: number;
  /** Stop and restart the runtime once, after this share of the edits were submitted (null: never). */
  restartAt: number | null;
  /** Share of webhook attempts the receivers fail (500s, timeouts, resets). */
  receiverFailure: number;
  /** The relay's WEBHOOK_TIMEOUT_MS; a receiver "timeout" answers 500 ms after it. */
  webhookTimeoutMs: number;
  /**
   * Every `racingEvery`-th edit (index ≡ 3) is sent as `racers` concurrent POSTs with one
   * Idempotency-Key and body, with an Oxen 429 queued for the next enqueue (0: none).
   */
  racingEvery: number;
  racers: number;
  /**
   * Every `slowEvery`-th edit (index ≡ 7) has slow receivers: their first attempt is answered 200
   * after `slowReplyMs` (under `webhookTimeoutMs`), and the run asks for a redelivery as soon as
   * it arrives, so that the redelivery lands while the attempt is in flight (0: none).
   */
  slowEvery: number;
  slowReplyMs: number;
  /** Creates with a ~3 MB data: input, spread over the run; each must be refused 413. */
  oversize: number;
  /**
   * Windows in which new Oxen event streams are silent (200, then no byte): opened once this share
   * of the edits was submitted, with open streams closed so the hub reconnects into one, and
   * switched off `forMs` later (the silent stream stays until someone drops it).
   */
  silentWindows: { at: number; forMs: number }[];
  /**
   * Endpoints each client has (contract v1.1), their receivers failing like the edits' own; the
   * second one takes edit.succeeded and edit.failed only.
   */
  endpointsPerClient: number;
  /**
   * One more endpoint per client, paused from the start and resumed once the clients' event logs
   * hold this share of the edits (or when every edit's fate was played), so that it holds them.
   */
  pausedEndpoint: { resumeAt: number } | null;
  timeLimitMs: number;
  log?: (line: string) => void;
  /** Where to write everything the relay printed (both runtimes), for a repro; not written if unset. */
  relayLogFile?: string;
}

export const DEFAULT_CHAOS: ChaosOptions = {
  edits: 1000,
  webhooksPerEdit: 2,
  concurrency: 24,
  clients: 10,
  seed: 7,
  hubAbortEveryMs: 7_000,
  editAbortEveryMs: 1_500,
  restartAt: 0.4,
  receiverFailure: 0.3,
  webhookTimeoutMs: 3_000,
  racingEvery: 10,
  racers: 3,
  slowEvery: 20,
  slowReplyMs: 2_000,
  oversize: 5,
  silentWindows: [
    { at: 0.15, forMs: 20_000 },
    { at: 0.8, forMs: 10_000 },
  ],
  endpointsPerClient: 2,
  pausedEndpoint: { resumeAt: 0.4 },
  timeLimitMs: 8 * 60_000,
};

export const isRacing = (o: ChaosOptions, index: number) =>
  o.racingEvery > 0 && index % o.racingEvery === 3 % o.racingEvery;
export const isSlow = (o: ChaosOptions, index: number) =>
  o.slowEvery > 0 && index % o.slowEvery === 7 % o.slowEvery;

type Fate = { kind: "finish"; outcomes: ("succeeded" | "failed")[] } | { kind: "cancel" };

/** One accepted edit, as the run knows it. */
export interface Tracked {
  index: number;
  client: number;
  id: string;
  /** Unique in the run: Oxen's jobs are counted by it. */
  prompt: string;
  /** num_generations asked for. */
  n: number;
  generations: string[];
  fate: Fate;
  expected: "succeeded" | "failed" | "cancelled";
  paths: string[];
  final?: {
    status: string;
    error: { message: string } | null;
    outputs: { status: string; error: string | null }[];
  };
}
