import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Receiver } from "../../tools/local/receiver.ts";
import { type RunningSimulator, startSimulator } from "../../tools/simulator/server.ts";
import { type Runtime, type RuntimeKind, startRuntime } from "./runtime.ts";
import { sleep } from "./stats.ts";

export const OXEN_KEY = "sim_bench_key";
export const ADMIN = "bench-admin-token-00000000000000000000000";
/** The baseline's signing secret (Standard Webhooks' `whsec_` + base64 form). */
export const BASELINE_SECRET = `whsec_${Buffer.from("bench-baseline-secret-0123456789").toString("base64")}`;
export const BASELINE_CONFIG = "test/bench/baseline/wrangler.toml";

export interface Bench {
  sim: RunningSimulator;
  receiver: Receiver;
  /** The relay, under `wrangler dev` (with its inspector port) or Miniflare. */
  relay: Runtime;
  /** performance.now() of each completion the simulator emitted, by generation id. */
  emittedAt: Map<string, number>;
  clients: { id: string; api_key: string; webhook_secret: string }[];
  close(): Promise<void>;
}

/**
 * The relay or the baseline, as the figures drive them: each on its own simulator (configured
 * alike; one Oxen account's stream reaches every subscriber, so two hubs on one simulator would
 * each see the other's completions), webhooks into one shared receiver.
 */
export interface Target {
  name: "relay" | "baseline";
  url: string;
  sim: RunningSimulator;
  receiver: Receiver;
  emittedAt: Map<string, number>;
  /** Creates one edit whose webhooks are these URLs; answers its generation id. */
  create(i: number, webhooks: string[]): Promise<string>;
  /** A count that grows by one for each completion the hub has handed to its edit's object and had acknowledged. */
  handed(): Promise<number>;
  /** CPU ms its runtime's workerd processes have used so far (see Runtime.cpuMs). */
  cpuMs(): number;
}

/** The production bundle (minified, as `wrangler deploy` would upload it), built once per run. */
export async function buildBundle(
  outdir: string,
  config = "wrangler.toml",
  /** e.g. `--minify=false` for a profile that names functions. */
  extraArgs: string[] = [],
): Promise<string> {
  await new Promise<void>((resolve, reject) =>
    execFile(
      process.execPath,
      [
        join("node_modules", "wrangler", "bin", "wrangler.js"),
        "deploy",
        "--dry-run",
        "--outdir",
        outdir,
        "-c",
        config,
        ...extraArgs,
      ],
      { env: { ...process.env, WRANGLER_SEND_METRICS: "false" } },
      (error, _stdout, stderr) =>
        error ? reject(new Error(`bench: building ${config} failed: ${stderr || error.message}`)) : resolve(),
    ),
  );
  return join(outdir, "index.js");
}

/** A simulator with no artificial delay, finishing jobs only when told, timestamping each completion. */
export async function benchSimulator(): Promise<{ sim: RunningSimulator; emittedAt: Map<string, number> }> {
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
  return { sim, emittedAt };
}

/**
 * Durable Object storage on tmpfs where there is one: locally every commit is an fsync of the VM's
 * disk, which says nothing about the relay (on Cloudflare the storage is replicated, not local).
 */
export const persistDir = (prefix: string) =>
  mkdtempSync(join(existsSync("/dev/shm") ? "/dev/shm" : tmpdir(), prefix));

/**
 * The relay serving the prebuilt bundle (no bundling or watching), on a simulator with no
 * artificial delay and a receiver (its own unless one is given), all on loopback.
 */
export async function startBench(opts: {
  clients: number;
  bundle: string;
  vars?: Record<string, string>;
  /** Default `wrangler` (wrangler dev, with its inspector). */
  runtime?: RuntimeKind;
  receiver?: Receiver;
  /** Storage to use and keep (default: a fresh directory, removed on close). */
  persist?: string;
  /** Limits of the clients made here (the defaults allow 200 running generations each). */
  limits?: { max_active_generations?: number; generations_per_day?: number };
}): Promise<Bench> {
  const { sim, emittedAt } = await benchSimulator();
  const ownReceiver = !opts.receiver;
  const receiver = opts.receiver ?? (await new Receiver().listen());
  const persist = opts.persist ?? persistDir("relay-bench-");
  const dropStorage = () => {
    if (!opts.persist) rmSync(persist, { recursive: true, force: true });
  };
  let relay: Runtime;
  try {
    relay = await startRuntime({
      kind: opts.runtime ?? "wrangler",
      config: "wrangler.toml",
      script: opts.bundle,
      persist,
      vars: {
        OXEN_BASE_URL: sim.baseUrl,
        OXEN_API_KEY: OXEN_KEY,
        ADMIN_TOKEN: ADMIN,
        ALLOW_PRIVATE_WEBHOOKS: "true",
        ...opts.vars,
      },
    });
  } catch (e) {
    await Promise.all([sim.close(), ownReceiver ? receiver.close() : undefined]);
    dropStorage();
    throw e;
  }
  const close = async () => {
    await relay.stop();
    await Promise.all([sim.close(), ownReceiver ? receiver.close() : undefined]);
    dropStorage();
  };
  try {
    const clients = [];
    for (let i = 0; i < opts.clients; i++)
      clients.push(await newClient(relay.url, `bench-${i}`, opts.limits));
    return { sim, receiver, relay, emittedAt, clients, close };
  } catch (e) {
    await close();
    throw e;
  }
}

/** A client of the relay (admin API). */
export async function newClient(
  url: string,
  name: string,
  limits?: { max_active_generations?: number; generations_per_day?: number },
): Promise<{ id: string; api_key: string; webhook_secret: string }> {
  const res = await fetch(`${url}/v1/clients`, {
    method: "POST",
    headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
    body: JSON.stringify({ name, ...(limits ? { limits } : {}) }),
  });
  if (res.status !== 201 && res.status !== 200)
    throw new Error(`bench: POST /v1/clients answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as { id: string; api_key: string; webhook_secret: string };
}

/** POST /v1/edits as one client; a 429 (the per-client rate limit) is waited out and retried. */
export async function createEditAs(
  url: string,
  apiKey: string,
  body: Record<string, unknown>,
): Promise<{ id: string; outputs: { generation_id: string }[] }> {
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(`${url}/v1/edits`, {
      method: "POST",
      headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({
        prompt: "Add a funny hat",
        input_image: ["https://example.com/a.png"],
        ...body,
      }),
    });
    if (res.status === 429 && attempt < 20) {
      await res.arrayBuffer();
      await sleep(Number(res.headers.get("retry-after") ?? "1") * 1000);
      continue;
    }
    if (res.status !== 202)
      throw new Error(`bench: POST /v1/edits answered ${res.status}: ${await res.text()}`);
    return (await res.json()) as { id: string; outputs: { generation_id: string }[] };
  }
}

export function createEdit(
  bench: Bench,
  client: number,
  body: Record<string, unknown>,
): Promise<{ id: string; outputs: { generation_id: string }[] }> {
  const key = bench.clients[client % bench.clients.length]?.api_key as string;
  return createEditAs(bench.relay.url, key, body);
}

/** The relay as a Target: edits spread over the bench's clients. */
export function relayTarget(bench: Bench): Target {
  return {
    name: "relay",
    url: bench.relay.url,
    sim: bench.sim,
    receiver: bench.receiver,
    emittedAt: bench.emittedAt,
    async create(i, webhooks) {
      const edit = await createEdit(
        bench,
        i,
        webhooks.length ? { webhooks: webhooks.map((url) => ({ url })) } : {},
      );
      return edit.outputs[0]?.generation_id as string;
    },
    cpuMs: () => bench.relay.cpuMs(),
    async handed() {
      // The hub settles a generation once its edit's object has applied the terminal update.
      const res = await fetch(`${bench.relay.url}/healthz`, {
        headers: { authorization: `Bearer ${ADMIN}` },
      });
      const body = (await res.json()) as { hub: { outstanding: number } };
      return -body.hub.outstanding;
    },
  };
}

export interface Baseline extends Target {
  runtime: Runtime;
  close(): Promise<void>;
}

/** The baseline Worker (test/bench/baseline) on its own simulator, its stream opened before any edit. */
export async function startBaseline(opts: {
  bundle: string;
  runtime: RuntimeKind;
  receiver: Receiver;
}): Promise<Baseline> {
  const { sim, emittedAt } = await benchSimulator();
  const persist = persistDir("baseline-bench-");
  let runtime: Runtime;
  try {
    runtime = await startRuntime({
      kind: opts.runtime,
      config: BASELINE_CONFIG,
      script: opts.bundle,
      persist,
      vars: { OXEN_BASE_URL: sim.baseUrl, OXEN_API_KEY: OXEN_KEY, WEBHOOK_SECRET: BASELINE_SECRET },
    });
  } catch (e) {
    await sim.close();
    rmSync(persist, { recursive: true, force: true });
    throw e;
  }
  const close = async () => {
    await runtime.stop();
    await sim.close();
    rmSync(persist, { recursive: true, force: true });
  };
  const url = runtime.url;
  const connected = await fetch(`${url}/connect`, { method: "POST" });
  if (connected.status !== 204) {
    const why = await connected.text();
    await close();
    throw new Error(
      `baseline: POST /connect answered ${connected.status}: ${why}\n${runtime.output().slice(-3000)}`,
    );
  }
  return {
    name: "baseline",
    url,
    sim,
    receiver: opts.receiver,
    emittedAt,
    runtime,
    close,
    cpuMs: () => runtime.cpuMs(),
    async create(_i, webhooks) {
      const res = await fetch(`${url}/edits`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          prompt: "Add a funny hat",
          input_image: ["https://example.com/a.png"],
          webhooks,
        }),
      });
      if (res.status !== 202)
        throw new Error(`baseline: POST /edits answered ${res.status}: ${await res.text()}`);
      return ((await res.json()) as { generation_id: string }).generation_id;
    },
    async handed() {
      return ((await (await fetch(`${url}/stats`)).json()) as { acked: number }).acked;
    },
  };
}
