import { Webhook } from "standardwebhooks";

export interface SignedHeaders {
  "webhook-id": string;
  "webhook-timestamp": string;
  "webhook-signature": string;
}

/** Standard Webhooks headers for one attempt; several live secrets give space-separated signatures. */
export function signWebhook(
  secrets: string[],
  id: string,
  timestampSec: number,
  body: string,
): SignedHeaders {
  const when = new Date(timestampSec * 1000);
  const signature = secrets.map((s) => new Webhook(s).sign(id, when, body)).join(" ");
  return { "webhook-id": id, "webhook-timestamp": String(timestampSec), "webhook-signature": signature };
}
