import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildBundle, createEdit, startBench } from "./harness.ts";
import { pool } from "./stats.ts";

/**
 * Where the relay's CPU goes in a burst: a V8 CPU profile of the worker (through wrangler's
 * inspector) while N edits × 2 webhooks complete at once. Self time by function, top first.
 * `node test/bench/profile.ts [edits]`.
 */
const edits = Number(process.argv[2] ?? 500);
const outdir = mkdtempSync(join(tmpdir(), "relay-profile-"));
// Not minified, so that the profile names the relay's own functions.
const bundle = await buildBundle(outdir, "wrangler.toml", ["--minify=false"]);
const bench = await startBench({ clients: 8, bundle });
try {
  const targets = (await (await fetch(`http://127.0.0.1:${bench.relay.inspectorPort}/json`)).json()) as {
    webSocketDebuggerUrl: string;
    title: string;
  }[];
  const target = targets[0] as { webSocketDebuggerUrl: string };
  // Wrangler's inspector proxy takes DevTools' origin only.
  const ws = new WebSocket(target.webSocketDebuggerUrl, {
    headers: { origin: "https://devtools.devprod.cloudflare.dev" },
  } as unknown as string[]);
  await new Promise((r, j) => {
    ws.onopen = r;
    ws.onerror = j;
  });
  let nextId = 1;
  const pending = new Map<number, (v: unknown) => void>();
  ws.onmessage = (m) => {
    const msg = JSON.parse(String(m.data)) as { id?: number; result?: unknown };
    if (msg.id && pending.has(msg.id)) pending.get(msg.id)?.(msg.result);
  };
  const send = (method: string, params: Record<string, unknown> = {}) =>
    new Promise<unknown>((r) => {
      const id = nextId++;
      pending.set(id, r);
      ws.send(JSON.stringify({ id, method, params }));
    });

  const created = await pool(edits, 32, (i) =>
    createEdit(bench, i, {
      webhooks: [{ url: `${bench.receiver.url}/p/${i}/a` }, { url: `${bench.receiver.url}/p/${i}/b` }],
    }),
  );
  await send("Profiler.enable");
  await send("Profiler.setSamplingInterval", { interval: 200 });
  await send("Profiler.start");
  const t0 = performance.now();
  for (const e of created) bench.sim.sim.finish(e.outputs[0]?.generation_id as string, "succeeded");
  await bench.receiver.waitFor(
    (all) => all.filter((r) => r.path.startsWith("/p/")).length >= edits * 2,
    120_000,
  );
  const ms = performance.now() - t0;
  const { profile } = (await send("Profiler.stop")) as {
    profile: {
      nodes: {
        id: number;
        callFrame: { functionName: string; url: string; lineNumber: number };
        hitCount: number;
        children?: number[];
      }[];
      startTime: number;
      endTime: number;
    };
  };
  ws.close();
  const total = profile.nodes.reduce((s, n) => s + n.hitCount, 0);
  const byFn = new Map<string, number>();
  for (const n of profile.nodes) {
    const f = n.callFrame;
    const key = `${f.functionName || "(anonymous)"} ${f.url.split("/").slice(-1)[0]}:${f.lineNumber}`;
    byFn.set(key, (byFn.get(key) ?? 0) + n.hitCount);
  }
  // Native calls (SQL `exec`, `toArray`, KV `put`...) are charged to the function that made them.
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const name = (id: number | undefined): string => {
    const f = id === undefined ? undefined : byId.get(id)?.callFrame;
    return f ? `${f.functionName || "(anonymous)"}:${f.lineNumber}` : "?";
  };
  const nativeByCaller = new Map<string, number>();
  for (const n of profile.nodes) {
    if (n.callFrame.url !== "" || n.hitCount === 0 || n.callFrame.functionName.startsWith("(")) continue;
    let p = parent.get(n.id);
    while (p !== undefined && byId.get(p)?.callFrame.url === "") p = parent.get(p);
    const key = `${n.callFrame.functionName} <- ${name(p)} <- ${name(p === undefined ? undefined : parent.get(p))}`;
    nativeByCaller.set(key, (nativeByCaller.get(key) ?? 0) + n.hitCount);
  }
  const wallUs = profile.endTime - profile.startTime;
  console.log(`${edits * 2} deliveries in ${ms.toFixed(0)} ms (${((edits * 2 * 1000) / ms).toFixed(0)}/s)`);
  console.log(`samples ${total}; profile span ${(wallUs / 1000).toFixed(0)} ms`);
  for (const [k, v] of [...byFn].sort((a, b) => b[1] - a[1]).slice(0, 30)) {
    console.log(`${((v / total) * 100).toFixed(1).padStart(5)}%  ${k}`);
  }
  console.log("native calls by caller:");
  for (const [k, v] of [...nativeByCaller].sort((a, b) => b[1] - a[1]).slice(0, 30)) {
    console.log(`${((v / total) * 100).toFixed(1).padStart(5)}%  ${k}`);
  }
} catch (e) {
  console.log(
    bench.relay
      .output()
      .split("\n")
      .filter((l) => !l.startsWith('{"level":"info"'))
      .slice(-40)
      .join("\n"),
  );
  throw e;
} finally {
  await bench.close();
  rmSync(outdir, { recursive: true, force: true });
}
