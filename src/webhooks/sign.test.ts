import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { newWebhookSecret } from "../clients/store";
import { signWebhook } from "./sign";

describe("signWebhook", () => {
  it("produces headers the standardwebhooks verifier accepts, for each live secret", () => {
    const a = newWebhookSecret();
    const b = newWebhookSecret();
    const body = JSON.stringify({ type: "edit.succeeded", data: { id: "edit_x" } });
    const ts = Math.floor(Date.now() / 1000);
    const headers = signWebhook([a, b], "msg_1", ts, body);
    expect(headers["webhook-id"]).toBe("msg_1");
    expect(headers["webhook-timestamp"]).toBe(String(ts));
    expect(headers["webhook-signature"].split(" ")).toHaveLength(2);
    for (const secret of [a, b])
      expect(new Webhook(secret).verify(body, { ...headers })).toEqual(JSON.parse(body));
    expect(() => new Webhook(newWebhookSecret()).verify(body, { ...headers })).toThrow();
    expect(() => new Webhook(a).verify(`${body} `, { ...headers })).toThrow();
  });
});
