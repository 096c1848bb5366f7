import { hc } from "hono/client";
import { Webhook } from "standardwebhooks";
import type { AppType } from "../app";
import type { EventType } from "../core/status";
import type { Edit } from "../edits/schema";
import type { EndpointView } from "../endpoints/policy";

export type { AppType, Edit, EndpointView, EventType };

/** A typed client for the relay's API: `createRelayClient(url, apiKey).v1.edits.$post({ json })`. */
export function createRelayClient(baseUrl: string, apiKey: string) {
  return hc<AppType>(baseUrl, { headers: { authorization: `Bearer ${apiKey}` } });
}

/** An edit's event (to its webhooks and the client's endpoints), or an endpoint's (endpoints only). */
export type WebhookEvent =
  | { type: EventType; timestamp: string; data: Edit }
  | { type: "endpoint.disabled"; timestamp: string; data: EndpointView };

/**
 * Checks a webhook's Standard Webhooks signature (with any live secret during a rotation) and its
 * timestamp (within 5 minutes), and returns the event. Throws if either is wrong. Pass the raw
 * body, before any JSON parsing, and the request's headers.
 */
export function verifyWebhook(
  body: string,
  headers: Headers | Record<string, string>,
  secrets: string | string[],
): WebhookEvent {
  const h = headers instanceof Headers ? Object.fromEntries(headers) : headers;
  let last: unknown;
  for (const secret of Array.isArray(secrets) ? secrets : [secrets]) {
    try {
      return new Webhook(secret).verify(body, h) as WebhookEvent;
    } catch (e) {
      last = e;
    }
  }
  throw last instanceof Error ? last : new Error("webhook signature not verified");
}
