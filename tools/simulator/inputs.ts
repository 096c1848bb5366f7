import { createHash } from "node:crypto";

/** What the simulator got when it fetched one http(s) `input_image` URL (config `fetchInputs`). */
export interface InputFetch {
  url: string;
  /** HTTP status, or null when the request itself failed (refused, reset, timed out). */
  status: number | null;
  ok: boolean;
  /** Body length actually read (0 when there was no answer). */
  bytes: number;
  content_type: string | null;
  /** Lowercase hex SHA-256 of the body read. */
  sha256: string | null;
  /** Network error or timeout; null when an answer came. */
  error: string | null;
  at_ms: number;
}

/** Per GET, headers and body together. */
export const INPUT_FETCH_TIMEOUT_MS = 5_000;

/** The http(s) URLs of `input_image` (one URL or a list); data: and anything else are not fetched. */
export function inputUrls(params: Record<string, unknown>): string[] {
  const raw = params.input_image;
  const list = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  return list.filter((u): u is string => typeof u === "string" && /^https?:\/\//i.test(u));
}

async function fetchOne(url: string, timeoutMs: number): Promise<InputFetch> {
  const at_ms = Date.now();
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: "follow" });
    const body = new Uint8Array(await res.arrayBuffer());
    return {
      url,
      status: res.status,
      ok: res.ok,
      bytes: body.byteLength,
      content_type: res.headers.get("content-type"),
      sha256: createHash("sha256").update(body).digest("hex"),
      error: null,
      at_ms,
    };
  } catch (error) {
    const e = error as Error & { cause?: { code?: string } };
    const detail = e.name === "TimeoutError" ? "timed out" : (e.cause?.code ?? e.message);
    return {
      url,
      status: null,
      ok: false,
      bytes: 0,
      content_type: null,
      sha256: null,
      error: detail,
      at_ms,
    };
  }
}

/** Fetches every input (in parallel); never rejects. */
export function fetchInputs(urls: string[], timeoutMs = INPUT_FETCH_TIMEOUT_MS): Promise<InputFetch[]> {
  return Promise.all(urls.map((u) => fetchOne(u, timeoutMs)));
}

/** Oxen-style error_message for the first input that could not be fetched, or null. The query (a signature, say) is left out. */
export function inputFailure(fetches: InputFetch[]): string | null {
  const bad = fetches.find((f) => !f.ok);
  if (!bad) return null;
  let shown = bad.url;
  try {
    const u = new URL(bad.url);
    shown = `${u.origin}${u.pathname}`;
  } catch {
    // Keep it as given.
  }
  const why = bad.status === null ? (bad.error ?? "network error") : `HTTP ${bad.status}`;
  return `Invalid input_image: could not download ${shown} (${why})`;
}
