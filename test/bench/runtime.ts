import { readdirSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { convertV4MiniflareOptions, Miniflare } from "miniflare";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import { freePorts, startWranglerDev } from "../../tools/local/wrangler-dev.ts";

/** Which local runtime serves a bundle: `wrangler dev`, or Miniflare's API driven from this process. */
export type RuntimeKind = "wrangler" | "miniflare";

export interface Runtime {
  kind: RuntimeKind;
  url: string;
  /** Under wrangler dev: where its inspector (Chrome DevTools protocol) listens, for profiles. */
  inspectorPort?: number;
  /** What the worker (and, under wrangler, wrangler) printed. */
  output(): string;
  /**
   * CPU time its workerd processes have used so far, in ms (Linux: /proc, 10 ms ticks; NaN
   * elsewhere). Under wrangler dev both workerd processes, its proxy's and the Worker's, count.
   */
  cpuMs(): number;
  stop(): Promise<void>;
}

export interface RuntimeOptions {
  kind: RuntimeKind;
  /** The Worker's wrangler.toml: its bindings, Durable Object classes, assets and rate limits. */
  config: string;
  /** The prebuilt bundle (`wrangler deploy --dry-run --outdir`), served as is. */
  script: string;
  /** Variables and secrets, on top of the config's [vars]. */
  vars: Record<string, string>;
  /** Where Durable Object, KV and R2 storage persist (the bench keeps it on tmpfs). */
  persist: string;
}

interface Proc {
  pid: number;
  ppid: number;
  pgrp: number;
  comm: string;
  cpuTicks: number;
}

/** Every process, from /proc (empty where there is none). */
function processes(): Proc[] {
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((d) => /^\d+$/.test(d));
  } catch {
    return [];
  }
  return pids.flatMap((pid) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      // After "pid (comm) ": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      return [
        {
          pid: Number(pid),
          ppid: Number(f[1]),
          pgrp: Number(f[2]),
          comm,
          cpuTicks: Number(f[11]) + Number(f[12]),
        },
      ];
    } catch {
      return [];
    }
  });
}

const TICK_MS = 10;

/** CPU ms of these processes now (those gone count as nothing). */
function cpuOf(pids: number[]): number {
  if (pids.length === 0) return Number.NaN;
  const want = new Set(pids);
  return processes()
    .filter((p) => want.has(p.pid))
    .reduce((sum, p) => sum + p.cpuTicks * TICK_MS, 0);
}

const workerdChildren = () =>
  new Set(
    processes()
      .filter((p) => p.ppid === process.pid && p.comm.startsWith("workerd"))
      .map((p) => p.pid),
  );

/** Keeps the last `limit` characters of a stream of log lines (a long run logs every attempt). */
function tail(limit = 200_000) {
  let chunks: string[] = [];
  let size = 0;
  return {
    push(s: string) {
      chunks.push(s);
      size += s.length;
      if (size > limit * 2) {
        const all = chunks.join("").slice(-limit);
        chunks = [all];
        size = all.length;
      }
    },
    text: () => chunks.join("").slice(-limit),
  };
}

/**
 * Serves a prebuilt bundle under `wrangler dev` (`--no-bundle`, the way the bench always ran) or
 * under Miniflare's API. Miniflare gets the Worker's options from wrangler itself
 * (`unstable_getMiniflareWorkerOptions`, what wrangler dev and the vitest pool use): the same
 * bindings, SQLite-backed Durable Object classes, assets, rate limits and compatibility settings,
 * and the same persistence layout (`<persist>/v3`), so the two differ only in what stands in front.
 */
export async function startRuntime(opts: RuntimeOptions): Promise<Runtime> {
  if (opts.kind === "wrangler") {
    const dev = await startWranglerDev({
      persistTo: opts.persist,
      vars: opts.vars,
      script: opts.script,
      extraArgs: ["--no-bundle", "-c", opts.config, "--log-level", "warn"],
    });
    // wrangler runs in its own process group, with its workerd processes.
    const pids = processes()
      .filter((p) => p.pgrp === dev.child.pid && p.comm.startsWith("workerd"))
      .map((p) => p.pid);
    return { ...dev, kind: "wrangler", cpuMs: () => cpuOf(pids) };
  }
  // The bundle is one ES module: no module rules to apply (v5 options have none).
  const { modulesRules: _rules, ...workerOptions } = unstable_getMiniflareWorkerOptions(
    opts.config,
  ).workerOptions;
  const [port] = await freePorts(1);
  const logs = tail();
  const v4 = {
    ...workerOptions,
    name: "bench",
    rootPath: resolve("."),
    scriptPath: resolve(opts.script),
    modules: true,
    modulesRoot: dirname(resolve(opts.script)),
    bindings: { ...(workerOptions.bindings as Record<string, unknown>), ...opts.vars },
    host: "127.0.0.1",
    port,
    resourcePersistencePath: resolve(opts.persist, "v3"),
    handleStructuredLogs: (log: { level: string; message: string }) => {
      logs.push(`${log.level}: ${log.message}\n`);
    },
  } as Parameters<typeof convertV4MiniflareOptions>[0];
  const before = workerdChildren();
  const mf = new Miniflare({
    ...convertV4MiniflareOptions(v4),
    enableDevRegistry: false,
    logRequests: false,
    telemetry: { enabled: false },
  });
  let url: URL;
  try {
    url = await mf.ready;
  } catch (e) {
    await mf.dispose().catch(() => {});
    throw new Error(`miniflare did not start: ${(e as Error).message}\n${logs.text()}`);
  }
  const pids = [...workerdChildren()].filter((pid) => !before.has(pid));
  let stopped: Promise<void> | null = null;
  return {
    kind: "miniflare",
    url: url.origin,
    output: logs.text,
    cpuMs: () => cpuOf(pids),
    stop: () => {
      stopped ??= mf.dispose();
      return stopped;
    },
  };
}
