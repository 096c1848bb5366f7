import { rmSync } from "node:fs";
import type { Receiver } from "../../tools/local/receiver.ts";
import { type Floor, floors } from "./floor.ts";
import { type Baseline, type Bench, createEdit, persistDir, startBaseline, startBench } from "./harness.ts";
import type { RuntimeKind } from "./runtime.ts";
import { waitForPrefix } from "./stats.ts";

export interface RuntimeProbe {
  /** Sequential no-I/O requests, relay and baseline under each runtime, interleaved. */
  floors: Record<RuntimeKind, { relay: Floor; baseline: Floor }>;
  /** From starting the runtime to its first answer. */
  startupMs: Record<RuntimeKind, { relay: number; baseline: number }>;
  /** An edit written under Miniflare (Durable Object SQLite, KV, R2) read back under wrangler dev. */
  persisted: { ok: boolean; detail: string };
  choice: RuntimeKind;
  why: string;
}

const since = (t: number) => performance.now() - t;

/**
 * Storage written under Miniflare and read under wrangler dev from the same directory: a client
 * (KV and its Durable Object), an edit that finished with its output copied (the edit's SQLite,
 * R2), then, after a restart under the other runtime, the edit read with the client's key and
 * its output fetched from the relay's file URL.
 */
async function persistence(
  bundle: string,
  receiver: Receiver,
): Promise<{ ok: boolean; detail: string; wrangler: Bench; startupMs: number }> {
  const dir = persistDir("relay-persist-");
  let written: { id: string; key: string; file: string } | null = null;
  try {
    const mf = await startBench({ clients: 1, bundle, runtime: "miniflare", receiver, persist: dir });
    try {
      const edit = await createEdit(mf, 0, { webhooks: [{ url: `${receiver.url}/persist/1` }] });
      mf.sim.sim.finish(edit.outputs[0]?.generation_id as string, "succeeded");
      await waitForPrefix(receiver, "/persist/", 1, 30_000);
      const got = (await (
        await fetch(`${mf.relay.url}/v1/edits/${edit.id}`, {
          headers: { authorization: `Bearer ${mf.clients[0]?.api_key}` },
        })
      ).json()) as { status: string; outputs: { url: string | null }[] };
      const file = got.outputs[0]?.url;
      if (got.status === "succeeded" && file?.startsWith(mf.relay.url))
        written = {
          id: edit.id,
          key: mf.clients[0]?.api_key as string,
          file: file.slice(mf.relay.url.length),
        };
    } finally {
      await mf.close();
    }
    const t = performance.now();
    const started = await startBench({ clients: 0, bundle, runtime: "wrangler", receiver, persist: dir });
    const startupMs = since(t);
    const wrangler: Bench = {
      ...started,
      close: async () => {
        await started.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
    if (!written)
      return { ok: false, detail: "the edit did not finish under Miniflare", wrangler, startupMs };
    const read = await fetch(`${wrangler.relay.url}/v1/edits/${written.id}`, {
      headers: { authorization: `Bearer ${written.key}` },
    });
    const edit = read.ok ? ((await read.json()) as { status: string }) : null;
    const file = await fetch(`${wrangler.relay.url}${written.file}`);
    const bytes = file.ok ? (await file.arrayBuffer()).byteLength : 0;
    const ok = edit?.status === "succeeded" && bytes > 0;
    return {
      ok,
      detail: ok
        ? `an edit written under Miniflare read back under wrangler dev (client key from KV, the edit's SQLite, its output from R2, ${bytes} bytes)`
        : `read back under wrangler dev: edit ${read.status}, file ${file.status}`,
      wrangler,
      startupMs,
    };
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

/**
 * Issue 13, point 3: the no-I/O floor of wrangler dev and of Miniflare's API serving the same
 * bundles, and whether Miniflare is faithful (its options come from wrangler.toml through
 * wrangler itself; persistence checked across the two). The bench runs on the cheaper one when
 * Miniflare is faithful, unless `forced`.
 */
export async function probeRuntimes(
  bundles: { relay: string; baseline: string },
  receiver: Receiver,
  floorCount: number,
  forced?: RuntimeKind,
): Promise<RuntimeProbe> {
  const open: { close(): Promise<void> }[] = [];
  try {
    const persisted = await persistence(bundles.relay, receiver);
    open.push(persisted.wrangler);
    let t = performance.now();
    const mfRelay = await startBench({ clients: 0, bundle: bundles.relay, runtime: "miniflare", receiver });
    open.push(mfRelay);
    const mfRelayMs = since(t);
    const baselines: Partial<Record<RuntimeKind, Baseline>> = {};
    const baselineMs: Partial<Record<RuntimeKind, number>> = {};
    for (const kind of ["miniflare", "wrangler"] as const) {
      t = performance.now();
      const b = await startBaseline({ bundle: bundles.baseline, runtime: kind, receiver });
      open.push(b);
      baselineMs[kind] = since(t);
      baselines[kind] = b;
    }
    const f = await floors(
      {
        "wrangler relay": persisted.wrangler.relay,
        "wrangler baseline": baselines.wrangler as Baseline,
        "miniflare relay": mfRelay.relay,
        "miniflare baseline": baselines.miniflare as Baseline,
      },
      floorCount,
    );
    const at = (k: string) => f[k] as Floor;
    const result = {
      floors: {
        wrangler: { relay: at("wrangler relay"), baseline: at("wrangler baseline") },
        miniflare: { relay: at("miniflare relay"), baseline: at("miniflare baseline") },
      },
      startupMs: {
        wrangler: { relay: persisted.startupMs, baseline: baselineMs.wrangler as number },
        miniflare: { relay: mfRelayMs, baseline: baselineMs.miniflare as number },
      },
      persisted: { ok: persisted.ok, detail: persisted.detail },
    };
    const cheaper = result.floors.miniflare.baseline.p50 < result.floors.wrangler.baseline.p50;
    const choice: RuntimeKind = forced ?? (persisted.ok && cheaper ? "miniflare" : "wrangler");
    const why = forced
      ? `chosen on the command line (--runtime=${forced})`
      : !persisted.ok
        ? `Miniflare's storage did not read back under wrangler dev (${persisted.detail})`
        : cheaper
          ? "Miniflare is faithful (same options from wrangler.toml, storage readable by wrangler dev) and its floor is lower"
          : "Miniflare's floor was not lower in this run";
    return { ...result, choice, why };
  } finally {
    for (const o of open.reverse()) await o.close();
  }
}
