import { describe, expect, it } from "vitest";
import { newWebhookSecret } from "../clients/store";
import { signWebhook } from "../webhooks/sign";
import { verifyWebhook } from "./index";

describe("verifyWebhook", () => {
  const body = JSON.stringify({
    type: "edit.succeeded",
    timestamp: new Date().toISOString(),
    data: { id: "edit_x" },
  });
  const now = Math.floor(Date.now() / 1000);

  it("returns the event for a good signature, from a Headers object or a plain record", () => {
    const secret = newWebhookSecret();
    const headers = signWebhook([secret], "msg_1", now, body);
    expect(verifyWebhook(body, new Headers({ ...headers }), secret).data.id).toBe("edit_x");
    expect(verifyWebhook(body, { ...headers }, [newWebhookSecret(), secret]).type).toBe("edit.succeeded");
  });

  it("throws on a wrong secret, a changed body or a stale timestamp", () => {
    const secret = newWebhookSecret();
    const headers = signWebhook([secret], "msg_1", now, body);
    expect(() => verifyWebhook(body, { ...headers }, newWebhookSecret())).toThrow();
    expect(() => verifyWebhook(`${body} `, { ...headers }, secret)).toThrow();
    const stale = signWebhook([secret], "msg_1", now - 3600, body);
    expect(() => verifyWebhook(body, { ...stale }, secret)).toThrow();
  });
});
