import { type OxenFailure, oxenFailure, oxenUnreachable, oxenUnreadable } from "./errors";
import { EnqueueResponse, Generation, GenerationList, ModelObject } from "./schemas";

export type OxenResult<T> = { ok: true; value: T } | { ok: false; failure: OxenFailure };

export interface OxenClientOptions {
  baseUrl: string;
  apiKey: string;
  timeoutMs?: number;
}

/** Typed calls to Oxen's REST API; every failure comes back as an OxenFailure, never thrown. */
export class OxenClient {
  readonly #baseUrl: string;
  readonly #apiKey: string;
  readonly #timeoutMs: number;

  constructor(opts: OxenClientOptions) {
    this.#baseUrl = opts.baseUrl.replace(/\/+$/, "");
    this.#apiKey = opts.apiKey;
    this.#timeoutMs = opts.timeoutMs ?? 20_000;
  }

  enqueue(body: Record<string, unknown>) {
    return this.#call("POST", "/ai/queue", body, (j) => EnqueueResponse.parse(j).generations);
  }

  /** A generation, or null when Oxen no longer (or never) knew it. */
  getGeneration(id: string) {
    return this.#call(
      "GET",
      `/ai/queue/${encodeURIComponent(id)}`,
      undefined,
      (j) => Generation.parse(j),
      true,
    );
  }

  listGenerations(query: Record<string, string> = {}) {
    const qs = new URLSearchParams(query).toString();
    return this.#call("GET", `/ai/queue${qs ? `?${qs}` : ""}`, undefined, (j) => GenerationList.parse(j));
  }

  /** true when cancelled (or already finished), false when Oxen does not know the id. */
  cancel(id: string) {
    return this.#call(
      "DELETE",
      `/ai/queue/${encodeURIComponent(id)}`,
      undefined,
      () => true as boolean,
      true,
    );
  }

  getModel(id: string) {
    return this.#call(
      "GET",
      `/ai/models/${encodeURIComponent(id)}`,
      undefined,
      (j) => ModelObject.parse(j),
      true,
    );
  }

  /** Opens the account's event stream; the caller owns the body (and the signal bounds the wait for headers). */
  openEvents(signal: AbortSignal): Promise<Response> {
    return fetch(`${this.#baseUrl}/events`, {
      headers: { authorization: `Bearer ${this.#apiKey}`, accept: "text/event-stream" },
      signal,
    });
  }

  async #call<T>(
    method: string,
    path: string,
    body: unknown,
    parse: (json: unknown) => T,
    nullOn404: true,
  ): Promise<OxenResult<T | null>>;
  async #call<T>(
    method: string,
    path: string,
    body: unknown,
    parse: (json: unknown) => T,
  ): Promise<OxenResult<T>>;
  async #call<T>(
    method: string,
    path: string,
    body: unknown,
    parse: (json: unknown) => T,
    nullOn404 = false,
  ): Promise<OxenResult<T | null>> {
    let res: Response;
    try {
      res = await fetch(`${this.#baseUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.#apiKey}`,
          accept: "application/json",
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (e) {
      return { ok: false, failure: oxenUnreachable(e) };
    }
    const text = await res.text();
    let json: unknown = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    if (res.status === 404 && nullOn404) return { ok: true, value: null };
    if (!res.ok) {
      return { ok: false, failure: oxenFailure(res.status, json, res.headers.get("retry-after")) };
    }
    try {
      return { ok: true, value: parse(json) };
    } catch {
      return { ok: false, failure: oxenUnreadable(`${method} ${path}`, res.status) };
    }
  }
}
