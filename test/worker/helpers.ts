import { runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { Outbox } from "../../src/webhooks/outbox";
import type { Received } from "../../tools/local/receiver-types";

export const ADMIN = "test-admin-token-0000000000000000000000";
export const simBase = () => env.OXEN_BASE_URL.replace(/\/api$/, "");
export const receiverBase = () => (env as unknown as { TEST_RECEIVER_URL: string }).TEST_RECEIVER_URL;

export async function call(
  method: string,
  path: string,
  opts: { token?: string; body?: unknown; headers?: Record<string, string>; raw?: string } = {},
): Promise<{ status: number; body: any; headers: Headers }> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: string | undefined = opts.raw;
  if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers["content-type"] ??= "application/json";
  }
  const res = await exports.default.fetch(new Request(`http://relay${path}`, { method, headers, body }));
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {}
  return { status: res.status, body: parsed, headers: res.headers };
}

export async function newClient(name = "test") {
  const res = await call("POST", "/v1/clients", { token: ADMIN, body: { name } });
  if (res.status !== 201) throw new Error(`client create failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as { id: string; api_key: string; webhook_secret: string };
}

export async function sim(path: string, body?: unknown): Promise<any> {
  const res = await fetch(`${simBase()}/_control${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`simulator control ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

export async function receiver(path: string, body?: unknown): Promise<any> {
  const res = await fetch(`${receiverBase()}/_control${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body ?? {}),
  });
  return res.json();
}

export const received = (hookPath: string): Promise<Received[]> =>
  receiver(`/received?path=${encodeURIComponent(hookPath)}`);

/** Polls `fn` until it returns a truthy value. */
export async function until<T>(
  fn: () => Promise<T | undefined | null | false>,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`condition not met in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Resolves once the edit's outbox has no delivery pending or in flight: every webhook it was going
 * to send (a retry, a duplicate, a redelivery) has been answered, so what the receiver holds is
 * final. Every webhook goes out through the outbox, so there is no need to wait and see.
 */
export const outboxIdle = (editId: string) =>
  until(() =>
    runInDurableObject(
      env.EDIT.getByName(editId),
      (_i, state) => new Outbox(state.storage.sql).nextDue() === null,
    ),
  );

export const hookUrl = (path: string) => `${receiverBase()}${path}`;
export const uniquePath = (label: string) => `/hook/${label}/${crypto.randomUUID()}`;

/**
 * After a test has rewritten an edit object's storage directly (to stand for time passing), the
 * running instance drops what it had read, as a new instance would not have it.
 */
export async function restartEdit(stub: DurableObjectStub<import("../../src/edits/object").EditObject>) {
  await runInDurableObject(stub, (instance: import("../../src/edits/object").EditObject) =>
    instance.dropCaches(),
  );
}
