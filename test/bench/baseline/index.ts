import { DurableObject } from "cloudflare:workers";
import { createParser } from "eventsource-parser";
import { signWebhook } from "../../../src/webhooks/sign.ts";

/**
 * The bench's baseline (issue 13): the relay's hot-path I/O and nothing else, to put each figure
 * beside what the runtime itself needs for the same work.
 *
 * - `POST /edits` {webhooks: [url, ...]}: POST Oxen's /ai/queue (the body the relay sends), one
 *   SQLite row with the webhooks in a per-job object named by the generation id, 202 {generation_id}.
 * - One hub object holds Oxen's `/events` stream (opened before the first enqueue) and hands each
 *   completion by RPC to its job's object, without waiting for one before reading the next.
 * - The job's object commits one row, then POSTs a Standard-Webhooks-signed body to each URL
 *   (the relay's own signing code).
 * - `GET /stats`: the hub's counters; anything else: a 404 that does no I/O (the runtime's floor).
 */

interface BaselineEnv {
  HUB: DurableObjectNamespace<BaselineHub>;
  JOB: DurableObjectNamespace<BaselineJob>;
  OXEN_BASE_URL: string;
  OXEN_API_KEY: string;
  WEBHOOK_SECRET: string;
}

interface Completion {
  generation_id: string;
  status: string;
  url?: string;
  error?: string;
}

export interface HubStats {
  connected: boolean;
  /** Completions read off the stream. */
  events: number;
  /** RPCs to job objects answered (the job committed its row). */
  acked: number;
  failed: number;
}

const hub = (env: BaselineEnv) => env.HUB.getByName("hub");

export class BaselineHub extends DurableObject<BaselineEnv> {
  #open: Promise<void> | null = null;
  #stats: HubStats = { connected: false, events: 0, acked: 0, failed: 0 };

  /** Opens the stream if it is not open; resolves once Oxen has answered with its headers. */
  async subscribe(): Promise<void> {
    this.#open ??= this.#start().catch((e) => {
      this.#open = null;
      throw e;
    });
    await this.#open;
  }

  async stats(): Promise<HubStats> {
    return this.#stats;
  }

  async #start(): Promise<void> {
    const res = await fetch(`${this.env.OXEN_BASE_URL}/events`, {
      headers: { authorization: `Bearer ${this.env.OXEN_API_KEY}`, accept: "text/event-stream" },
    });
    if (!res.ok || !res.body) {
      await res.body?.cancel();
      throw new Error(`event stream answered HTTP ${res.status}`);
    }
    this.#stats.connected = true;
    this.ctx.waitUntil(
      this.#read(res.body).finally(() => {
        this.#stats.connected = false;
        this.#open = null;
      }),
    );
  }

  async #read(body: ReadableStream<Uint8Array>): Promise<void> {
    const parser = createParser({
      onEvent: (msg) => {
        if (msg.event !== "media_generation_completed") return;
        const completion = JSON.parse(msg.data) as Completion;
        this.#stats.events++;
        this.env.JOB.getByName(completion.generation_id)
          .complete(completion)
          .then(
            () => {
              this.#stats.acked++;
            },
            (e: unknown) => {
              this.#stats.failed++;
              console.error("baseline hub: job RPC failed", String(e));
            },
          );
      },
    });
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      parser.feed(value);
    }
  }
}

export class BaselineJob extends DurableObject<BaselineEnv> {
  /** The job's one row: its webhooks, then its outcome. */
  async init(webhooks: string[]): Promise<void> {
    const sql = this.ctx.storage.sql;
    sql.exec(
      "CREATE TABLE IF NOT EXISTS job (id INTEGER PRIMARY KEY CHECK (id = 1), webhooks TEXT NOT NULL, status TEXT NOT NULL, url TEXT)",
    );
    sql.exec(
      "INSERT OR REPLACE INTO job (id, webhooks, status) VALUES (1, ?, 'queued')",
      JSON.stringify(webhooks),
    );
  }

  /** Commits the outcome (one row), then sends the signed webhooks; answers once committed. */
  async complete(c: Completion): Promise<void> {
    const sql = this.ctx.storage.sql;
    const row = sql.exec<{ webhooks: string }>("SELECT webhooks FROM job WHERE id = 1").toArray()[0];
    if (!row) return;
    sql.exec("UPDATE job SET status = ?, url = ? WHERE id = 1", c.status, c.url ?? null);
    const webhooks = JSON.parse(row.webhooks) as string[];
    if (webhooks.length === 0) return;
    const now = Date.now();
    const body = JSON.stringify({
      type: `edit.${c.status}`,
      timestamp: new Date(now).toISOString(),
      data: { generation_id: c.generation_id, status: c.status, url: c.url ?? null, error: c.error ?? null },
    });
    const headers = {
      "content-type": "application/json",
      ...signWebhook([this.env.WEBHOOK_SECRET], `msg_${c.generation_id}`, Math.floor(now / 1000), body),
    };
    // The output gate holds these until the row is durable, as it does the relay's.
    this.ctx.waitUntil(
      Promise.all(
        webhooks.map((url) =>
          fetch(url, { method: "POST", headers, body }).then(
            (r) => r.arrayBuffer(),
            (e: unknown) => console.error("baseline job: webhook failed", String(e)),
          ),
        ),
      ),
    );
  }
}

export default {
  async fetch(request: Request, env: BaselineEnv): Promise<Response> {
    const { pathname } = new URL(request.url);
    if (request.method === "POST" && pathname === "/edits") {
      const {
        webhooks = [],
        prompt,
        input_image,
      } = (await request.json()) as {
        webhooks?: string[];
        prompt?: string;
        input_image?: string[];
      };
      // Subscribed before enqueueing, as the relay does (Oxen drops events nobody listens for).
      await hub(env).subscribe();
      const res = await fetch(`${env.OXEN_BASE_URL}/ai/queue`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${env.OXEN_API_KEY}`,
          accept: "application/json",
          "content-type": "application/json",
        },
        body: JSON.stringify({
          model: "qwen-image-edit-2511",
          prompt: prompt ?? "Add a funny hat",
          input_image: input_image ?? ["https://example.com/a.png"],
          num_generations: 1,
        }),
      });
      if (!res.ok) return new Response(await res.text(), { status: 502 });
      const { generations } = (await res.json()) as { generations: { generation_id: string }[] };
      const id = generations[0]?.generation_id;
      if (!id) return new Response("no generation", { status: 502 });
      await env.JOB.getByName(id).init(webhooks);
      return Response.json({ generation_id: id }, { status: 202 });
    }
    if (request.method === "POST" && pathname === "/connect") {
      await hub(env).subscribe();
      return new Response(null, { status: 204 });
    }
    if (pathname === "/stats") return Response.json(await hub(env).stats());
    if (pathname === "/healthz") return new Response("ok");
    return new Response("Not Found", { status: 404 });
  },
};
