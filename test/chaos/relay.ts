/** The run's HTTP client of the relay: retries what a real client would, and files every answer. */

export interface Answer {
  status: number;
  body: any;
  retryAfter: string | null;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A 5xx the relay may answer on purpose, by label; null for one it must never answer. Allowed:
 * a 503 in the relay's error envelope saying Oxen is busy or down (`oxen_unavailable`) or an
 * object is briefly unavailable (`temporarily_unavailable`), with Retry-After, or without it
 * only when Oxen's own 429/503 carried none; a 502 `oxen_error` (Oxen answered 5xx, passed on).
 * Anything else is a relay 5xx: a 500, another 5xx status, a 5xx without the envelope (not the
 * relay's answer, or a crash), or these types without their conditions.
 */
export function allowed5xx(a: Answer): string | null {
  const type = typeof a.body?.error?.type === "string" ? (a.body.error.type as string) : null;
  if (a.status === 503 && (type === "oxen_unavailable" || type === "temporarily_unavailable")) {
    if (a.retryAfter !== null) return "503 with Retry-After (Oxen busy or down, or an object briefly away)";
    if (type === "oxen_unavailable") return "503 without Retry-After (Oxen's 429/503 carried none)";
    return null;
  }
  if (a.status === 502 && type === "oxen_error") return "502 oxen_error (Oxen's 5xx passed on)";
  return null;
}

/** Bounded honour of Retry-After (seconds, at most 5 s); a short jittered pause without one. */
export function retryDelayMs(retryAfter: string | null, random: () => number): number {
  if (retryAfter !== null && /^\d+$/.test(retryAfter.trim())) return Math.min(Number(retryAfter), 5) * 1000;
  return 200 + random() * 300;
}

export class RelayClient {
  url = "";
  /** Set while the runtime is being stopped: a non-JSON answer then is wrangler's, not the relay's. */
  runtimeDown = false;
  connectionErrors = 0;
  readonly byStatus = new Map<number, number>();
  readonly allowed = new Map<string, number>();
  /** Every 5xx the relay must not answer, described. */
  readonly forbidden: string[] = [];
  readonly #deadline: number;
  readonly #random: () => number;
  readonly #say: (line: string) => void;

  constructor(deadline: number, random: () => number, say: (line: string) => void) {
    this.#deadline = deadline;
    this.#random = random;
    this.#say = say;
  }

  /** One relay call; connection errors (a restart in progress) are retried, 5xx are filed. */
  async call(
    method: string,
    path: string,
    token: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Answer> {
    const payload = body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
    for (;;) {
      try {
        const res = await fetch(`${this.url}${path}`, {
          method,
          headers: {
            authorization: `Bearer ${token}`,
            ...(payload === undefined ? {} : { "content-type": "application/json" }),
            ...headers,
          },
          body: payload,
          signal: AbortSignal.timeout(30_000),
        });
        const json = await res.json().catch(() => null);
        if (json === null && this.runtimeDown) {
          // Not the relay's answer: wrangler's proxy, with the runtime going down under the request.
          // A retry is safe: edits are created under an Idempotency-Key.
          throw new Error("runtime stopping");
        }
        const answer: Answer = { status: res.status, body: json, retryAfter: res.headers.get("retry-after") };
        this.#file(method, path, answer);
        return answer;
      } catch {
        this.connectionErrors++;
        if (Date.now() > this.#deadline)
          throw new Error("chaos: time limit reached while the relay was unreachable");
        await sleep(250);
      }
    }
  }

  /**
   * A call repeated, with the same headers (so the same Idempotency-Key), while it answers 429,
   * 502 or 503 (or `retryOn` says so): Retry-After honoured up to 5 s, at most 60 tries.
   */
  async retrying(
    method: string,
    path: string,
    token: string,
    body?: unknown,
    headers: Record<string, string> = {},
    opts: { retryOn?: (status: number) => boolean; onRetry?: (a: Answer) => void } = {},
  ): Promise<Answer> {
    const retryOn = opts.retryOn ?? ((s: number) => s === 429 || s === 502 || s === 503);
    for (let i = 1; ; i++) {
      const a = await this.call(method, path, token, body, headers);
      if (!retryOn(a.status) || i >= 60 || Date.now() > this.#deadline) return a;
      opts.onRetry?.(a);
      await sleep(retryDelayMs(a.retryAfter, this.#random));
    }
  }

  #file(method: string, path: string, a: Answer) {
    this.byStatus.set(a.status, (this.byStatus.get(a.status) ?? 0) + 1);
    if (a.status < 500) return;
    const label = allowed5xx(a);
    if (label !== null) {
      this.allowed.set(label, (this.allowed.get(label) ?? 0) + 1);
      return;
    }
    const line = `${a.status} on ${method} ${path} (retry-after ${a.retryAfter}): ${JSON.stringify(a.body)}`;
    this.forbidden.push(line);
    this.#say(`chaos: relay 5xx not allowed: ${line}`);
  }
}
