import type { OpenAPIHono } from "@hono/zod-openapi";
import { z } from "@hono/zod-openapi";
import { EVENT_TYPES } from "../core/status";
import { USER_AGENT } from "../core/version";
import { PublicEditSchema } from "../edits/schema";
import { EndpointSchema } from "./endpoints";

const header = (description: string, example: string) => ({ description, example });

/** The webhooks the relay sends, in the document's `webhooks` section (OpenAPI 3.1). */
export function registerWebhooks(registry: OpenAPIHono["openAPIRegistry"]): void {
  const events: { type: string; summary: string; data: z.ZodType }[] = [
    ...EVENT_TYPES.map((type) => ({
      type,
      summary: `Sent to each subscribed URL and endpoint when an edit ends as ${type.slice(5)}`,
      data: PublicEditSchema,
    })),
    {
      type: "endpoint.disabled",
      summary:
        "Sent to a client's other endpoints when one of its endpoints was disabled after failing too long",
      data: EndpointSchema,
    },
  ];
  for (const { type, summary, data } of events) {
    registry.registerWebhook({
      method: "post",
      path: type,
      summary,
      description:
        "Signed per Standard Webhooks. Any 2xx acknowledges it; anything else is retried on the schedule. " +
        "The same `webhook-id` on every URL, retry and redelivery: dedupe on it.",
      request: {
        headers: z.object({
          "webhook-id": z.string().openapi(header("One per event", "msg_3okvMS5UeaWkaovWaX2Yw4")),
          "webhook-timestamp": z.string().openapi(header("Unix seconds of this attempt", "1795486480")),
          "webhook-signature": z
            .string()
            .openapi(
              header("v1,<base64 HMAC-SHA256>, space-separated while two secrets are live", "v1,K5oZ…="),
            ),
          "user-agent": z.string().openapi(header("The relay and its version", USER_AGENT)),
        }),
        body: {
          content: {
            "application/json": {
              schema: z
                .object({ type: z.literal(type), timestamp: z.string(), data })
                .openapi(`${type.replace(".", "_")}_event`),
            },
          },
        },
      },
      responses: {
        200: { description: "Any 2xx: delivered" },
        410: { description: "Gone: stop sending to this URL" },
      },
    });
  }
}
