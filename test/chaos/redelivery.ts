import type { Receiver, Reply } from "../../tools/local/receiver.ts";
import type { Answer } from "./relay.ts";

/** A redelivery the run asked for while a slow receiver held the edit's first attempt. */
export interface Redelivery {
  index: number;
  /** Every webhook path of the edit: a redelivery goes to all of them. */
  paths: string[];
  /** Paths of the edit, with the position in `receiver.received` of each one's first request. */
  first: Map<string, number>;
  sentAt: number;
  /** When the slow receiver answers the attempt that set the redelivery off. */
  attemptAnswersAt: number;
  answeredAt?: number;
  answer?: Answer;
}

/**
 * Receivers of the "slow" edits: every path answers its first request 200 after `replyMs` (under
 * the relay's webhook timeout), later ones 200 at once; they never fail, since a redelivery may
 * be a single attempt per URL. The first request of an edit sets off `redeliver` at once.
 */
export class SlowReceivers {
  readonly asked: Redelivery[] = [];
  readonly #receiver: Receiver;
  readonly #replyMs: number;
  readonly #redeliver: (index: number) => Promise<Answer>;
  readonly #paths = new Map<string, number>();
  readonly #editPaths = new Map<number, string[]>();
  readonly #byEdit = new Map<number, Redelivery>();
  readonly #tasks: Promise<void>[] = [];

  constructor(receiver: Receiver, replyMs: number, redeliver: (index: number) => Promise<Answer>) {
    this.#receiver = receiver;
    this.#replyMs = replyMs;
    this.#redeliver = redeliver;
  }

  add(index: number, paths: string[]): void {
    for (const p of paths) this.#paths.set(p, index);
    this.#editPaths.set(index, paths);
  }

  get edits(): number {
    return new Set(this.#paths.values()).size;
  }

  /** The reply for a slow edit's path; undefined for any other path. */
  reply(path: string): Reply | undefined {
    const index = this.#paths.get(path);
    if (index === undefined) return undefined;
    let r = this.#byEdit.get(index);
    if (r?.first.has(path)) return { status: 200 };
    // The receiver files the request right after asking for its reply: this is its position.
    const position = this.#receiver.received.length;
    if (!r) {
      const now = Date.now();
      r = {
        index,
        paths: this.#editPaths.get(index) ?? [],
        first: new Map(),
        sentAt: now,
        attemptAnswersAt: now + this.#replyMs,
      };
      this.#byEdit.set(index, r);
      this.asked.push(r);
      const asked = r;
      this.#tasks.push(
        this.#redeliver(index)
          .catch((e): Answer => ({ status: 0, body: { error: String(e) }, retryAfter: null }))
          .then((answer) => {
            asked.answer = answer;
            asked.answeredAt = Date.now();
          }),
      );
    }
    r.first.set(path, position);
    return { status: 200, delayMs: this.#replyMs };
  }

  async settled(): Promise<void> {
    await Promise.all(this.#tasks);
  }
}

/**
 * Whether an accepted redelivery reached every URL of the edit: a 2xx-answered request to the
 * path that arrived after the redelivery was asked and after the path's first (slow) request.
 * Also whether the relay's answer named every URL.
 */
export function redeliveryOutcome(
  r: Redelivery,
  receiver: Receiver,
): { expected: number; delivered: number; missing: string[]; urlsNamed: boolean } {
  const urls: string[] = Array.isArray(r.answer?.body?.urls) ? r.answer.body.urls : [];
  const urlsNamed = r.paths.every((p) => urls.includes(`${receiver.url}${p}`));
  let delivered = 0;
  const missing: string[] = [];
  for (const path of r.paths) {
    const after = r.first.get(path) ?? -1;
    const ok = receiver.received.some(
      (q, i) => i > after && q.path === path && q.at >= r.sentAt && q.answered >= 200 && q.answered < 300,
    );
    if (ok) delivered++;
    else missing.push(path);
  }
  return { expected: r.paths.length, delivered, missing, urlsNamed };
}
