import { USER_AGENT } from "../core/version";
import { signWebhook } from "./sign";
import { checkWebhookUrl } from "./url-safety";

export interface AttemptResult {
  status: number;
  error: string | null;
  durationMs: number;
  retryAfter: string | null;
  /** The first RESPONSE_KEPT_BYTES of the receiver's answer (UTF-8, lossy), null when there was none. */
  response: string | null;
}

/** How much of a receiver's answer an attempt keeps: enough to read why it refused. */
export const RESPONSE_KEPT_BYTES = 4096;

/**
 * One attempt, checked first: the URL rules again (they may have tightened since the URL was
 * taken) and a live secret to sign with. `refused`: no request was made.
 */
export async function attemptWebhook(args: {
  url: string;
  eventId: string;
  body: string;
  secrets: () => Promise<string[]>;
  allowPrivate: boolean;
  timeoutMs: number;
}): Promise<{ result: AttemptResult; refused: boolean }> {
  const blocked = checkWebhookUrl(args.url, { allowPrivate: args.allowPrivate });
  const secrets = blocked ? [] : await args.secrets();
  if (blocked || secrets.length === 0) {
    const error = blocked ? `URL not allowed: ${blocked}` : "the client no longer exists";
    return { result: { status: 0, error, durationMs: 0, retryAfter: null, response: null }, refused: true };
  }
  const { url, eventId, body, timeoutMs } = args;
  return { result: await sendWebhook({ url, eventId, body, secrets, timeoutMs }), refused: false };
}

/** One POST of one webhook, signed for this attempt's timestamp; never follows redirects. */
export async function sendWebhook(args: {
  url: string;
  eventId: string;
  body: string;
  secrets: string[];
  timeoutMs: number;
}): Promise<AttemptResult> {
  const started = Date.now();
  const headers = {
    "content-type": "application/json",
    "user-agent": USER_AGENT,
    ...signWebhook(args.secrets, args.eventId, Math.floor(started / 1000), args.body),
  };
  try {
    const res = await fetch(args.url, {
      method: "POST",
      headers,
      body: args.body,
      redirect: "manual",
      signal: AbortSignal.timeout(args.timeoutMs),
    });
    const response = await readPrefix(res, RESPONSE_KEPT_BYTES);
    const redirected = res.status >= 300 && res.status < 400;
    return {
      status: res.status,
      error: redirected
        ? `redirect to ${originOf(res.headers.get("location"), args.url)} not followed`
        : res.ok
          ? null
          : `HTTP ${res.status}`,
      durationMs: Date.now() - started,
      retryAfter: res.headers.get("retry-after"),
      response,
    };
  } catch (e) {
    const err = e as Error;
    const timedOut = err?.name === "TimeoutError" || err?.name === "AbortError";
    return {
      status: 0,
      error: timedOut
        ? `timed out after ${args.timeoutMs} ms`
        : `network error: ${err?.message ?? String(e)}`,
      durationMs: Date.now() - started,
      retryAfter: null,
      response: null,
    };
  }
}

/** Reads at most `max` bytes of a body and drops the rest (a receiver cannot make us read megabytes). */
async function readPrefix(res: Response, max: number): Promise<string | null> {
  if (!res.body) return null;
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < max) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } catch {
    // A body cut off halfway is kept as far as it came.
  } finally {
    reader.cancel().catch(() => {});
  }
  if (size === 0) return null;
  const bytes = new Uint8Array(Math.min(size, max));
  let at = 0;
  for (const c of chunks) {
    const part = c.subarray(0, bytes.byteLength - at);
    bytes.set(part, at);
    at += part.byteLength;
    if (at >= bytes.byteLength) break;
  }
  // A character cut at the limit becomes U+FFFD, not an error.
  return new TextDecoder().decode(bytes);
}

/** A redirect target as its origin only: the full Location may carry tokens. */
function originOf(location: string | null, base: string): string {
  if (!location) return "?";
  try {
    return new URL(location, base).origin;
  } catch {
    return "an unreadable location";
  }
}
