import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { Webhook } from "standardwebhooks";
import type { Received, Reply } from "./receiver-types.ts";

export type { Received, Reply };

/**
 * A webhook receiver for tests: records every request, checks signatures with the
 * `standardwebhooks` package, and answers from a per-path script (200 once a script runs out).
 * Steerable in-process, or over HTTP under `/_control` from tests that run inside workerd.
 */
export class Receiver {
  readonly received: Received[] = [];
  #scripts = new Map<string, Reply[]>();
  #secrets = new Map<string, string[]>();
  #server: Server;
  #sockets = new Set<Socket>();
  #waiters: Array<() => void> = [];
  url = "";
  /** Answers requests no script covers (default: 200); chaos runs make receivers misbehave here. */
  policy: (path: string) => Reply = () => ({ status: 200 });

  constructor() {
    this.#server = createServer((req, res) => void this.#handle(req, res));
    this.#server.on("connection", (s) => {
      this.#sockets.add(s);
      s.on("close", () => this.#sockets.delete(s));
    });
  }

  async listen(port = 0, host = "127.0.0.1"): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(port, host, resolve));
    this.url = `http://${host}:${(this.#server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  script(path: string, replies: Reply[]): void {
    this.#scripts.set(path, [...replies]);
  }

  secrets(path: string, secrets: string[]): void {
    this.#secrets.set(path, secrets);
  }

  reset(): void {
    this.received.length = 0;
    this.#scripts.clear();
    this.#secrets.clear();
  }

  on(path: string): Received[] {
    return this.received.filter((r) => r.path === path);
  }

  /** Resolves once `predicate` holds over what was received, or rejects after `timeoutMs`. */
  async waitFor(predicate: (all: Received[]) => boolean, timeoutMs = 15_000): Promise<Received[]> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.received)) {
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`receiver: condition not met in ${timeoutMs} ms (${this.received.length} received)`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 250));
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.received;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const hr = performance.now();
    const body = Buffer.concat(chunks).toString("utf8");
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    if (path.startsWith("/_control/")) return this.#control(path, req, body, res);

    const headers = Object.fromEntries(
      Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(", ") : (v ?? "")]),
    );
    const secrets = this.#secrets.get(path);
    const verified = secrets ? secrets.some((s) => verifies(s, body, headers)) : null;
    const reply = this.#scripts.get(path)?.shift() ?? this.policy(path);
    this.received.push({ path, headers, body, at: Date.now(), hr, verified, answered: reply.status });
    for (const w of this.#waiters.splice(0)) w();
    if (reply.delayMs) await new Promise((r) => setTimeout(r, reply.delayMs));
    if (reply.status === 0) {
      req.socket.destroy();
      return;
    }
    res.writeHead(reply.status, { "content-type": "text/plain", ...reply.headers });
    res.end(reply.body ?? "ok");
  }

  #control(path: string, req: IncomingMessage, body: string, res: ServerResponse): void {
    const json = body ? JSON.parse(body) : {};
    const url = new URL(req.url ?? "/", "http://x");
    let out: unknown = { ok: true };
    if (path === "/_control/reset") this.reset();
    else if (path === "/_control/script") this.script(json.path, json.replies);
    else if (path === "/_control/secrets") this.secrets(json.path, json.secrets);
    else if (path === "/_control/received") {
      const only = url.searchParams.get("path");
      out = only ? this.on(only) : this.received;
    } else {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(out));
  }
}

function verifies(secret: string, body: string, headers: Record<string, string>): boolean {
  try {
    new Webhook(secret).verify(body, headers);
    return true;
  } catch {
    return false;
  }
}
