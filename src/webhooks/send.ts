import { USER_AGENT } from "../core/version";
import { signWebhook } from "./sign";

export interface AttemptResult {
  status: number;
  error: string | null;
  durationMs: number;
  retryAfter: string | null;
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
    // Drain so the connection can be reused; receivers' bodies are not read further.
    await res.body?.cancel();
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
    };
  }
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
