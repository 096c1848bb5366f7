import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Receiver } from "../../tools/local/receiver.ts";
import { startWranglerDev, type WranglerDev } from "../../tools/local/wrangler-dev.ts";
import { type RunningSimulator, startSimulator } from "../../tools/simulator/server.ts";

export const OXEN_KEY = "sim_bench_key";
export const ADMIN = "bench-admin-token-00000000000000000000000";

export interface Bench {
  sim: RunningSimulator;
  receiver: Receiver;
  relay: WranglerDev;
  /** performance.now() of each completion the simulator emitted, by generation id. */
  emittedAt: Map<string, number>;
  clients: { api_key: string; webhook_secret: string }[];
  close(): Promise<void>;
}

/** The production bundle (minified, as `wrangler deploy` would upload it), built once per run. */
export function buildBundle(outdir: string): string {
  execFileSync(
    process.execPath,
    [join("node_modules", "wrangler", "bin", "wrangler.js"), "deploy", "--dry-run", "--outdir", outdir],
    { stdio: "ignore", env: { ...process.env, WRANGLER_SEND_METRICS: "false" } },
  );
  return join(outdir, "index.js");
}

/**
 * The relay under `wrangler dev`, serving the prebuilt bundle with no bundling or watching, on a
 * simulator with no artificial delay and a receiver, all on loopback.
 */
export async function startBench(opts: {
  clients: number;
  bundle: string;
  vars?: Record<string, string>;
}): Promise<Bench> {
  const emittedAt = new Map<string, number>();
  const sim = await startSimulator({
    apiKeys: [OXEN_KEY],
    queuedMs: 0,
    processingMs: 0,
    autoComplete: false,
    keepAliveMs: 15_000,
    noiseEveryMs: 0,
    logLimit: 100,
    onEmit: (e) => {
      emittedAt.set(e.data.generation_id, performance.now());
    },
  });
  const receiver = await new Receiver().listen();
  // Durable Object storage on tmpfs where there is one: locally every commit is an fsync of the
  // VM's disk, which says nothing about the relay (on Cloudflare the storage is replicated, not local).
  const persist = mkdtempSync(join(existsSync("/dev/shm") ? "/dev/shm" : tmpdir(), "relay-bench-"));
  const relay = await startWranglerDev({
    persistTo: persist,
    vars: {
      OXEN_BASE_URL: sim.baseUrl,
      OXEN_API_KEY: OXEN_KEY,
      ADMIN_TOKEN: ADMIN,
      ALLOW_PRIVATE_WEBHOOKS: "true",
      ...opts.vars,
    },
    script: opts.bundle,
    extraArgs: ["--no-bundle", "-c", "wrangler.toml", "--log-level", "warn"],
  });
  const clients = [];
  for (let i = 0; i < opts.clients; i++) {
    const res = await fetch(`${relay.url}/v1/clients`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
      body: JSON.stringify({ name: `bench-${i}` }),
    });
    clients.push((await res.json()) as { api_key: string; webhook_secret: string });
  }
  return {
    sim,
    receiver,
    relay,
    emittedAt,
    clients,
    async close() {
      await relay.stop();
      await Promise.all([sim.close(), receiver.close()]);
      rmSync(persist, { recursive: true, force: true });
    },
  };
}

export async function createEdit(
  bench: Bench,
  client: number,
  body: Record<string, unknown>,
): Promise<{ id: string; outputs: { generation_id: string }[] }> {
  const res = await fetch(`${bench.relay.url}/v1/edits`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${bench.clients[client % bench.clients.length]?.api_key}`,
      "content-type": "application/json",
    },
    body: JSON.stringify({ prompt: "Add a funny hat", input_image: ["https://example.com/a.png"], ...body }),
  });
  if (res.status !== 202)
    throw new Error(`bench: POST /v1/edits answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as { id: string; outputs: { generation_id: string }[] };
}
