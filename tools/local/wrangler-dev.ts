import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface WranglerDev {
  url: string;
  child: ChildProcess;
  /** Where wrangler's inspector (Chrome DevTools protocol) listens, for profiles. */
  inspectorPort: number;
  /** Everything wrangler and the worker printed (when stdio is "pipe"). */
  output(): string;
  stop(): Promise<void>;
}

/** Ports that were free a moment ago, all distinct: each is held until all are chosen. */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
          const srv = createServer();
          srv.once("error", reject);
          srv.listen(0, "127.0.0.1", () => resolve(srv));
        }),
    ),
  );
  const ports = servers.map((s) => {
    const addr = s.address();
    return typeof addr === "object" && addr ? addr.port : 0;
  });
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

const live = new Set<ChildProcess>();
function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}
process.once("exit", () => {
  for (const c of live) killGroup(c, "SIGKILL");
});
// A signal ends Node without running "exit" handlers: stop the children first, then go.
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.once(signal, () => {
    for (const c of live) killGroup(c, "SIGKILL");
    process.exit(128 + (signal === "SIGINT" ? 2 : signal === "SIGTERM" ? 15 : 1));
  });
}

type StartOptions = Parameters<typeof startOnce>[0];

/**
 * Runs the worker under `wrangler dev` in its own process group, so that stopping it (on failure
 * too) takes workerd down with it: a stray workerd breaks the next run.
 *
 * A port found free may be taken by another process before wrangler binds it (test files start
 * their relays side by side): when this function chose the ports, it tries again with new ones.
 */
export async function startWranglerDev(opts: StartOptions): Promise<WranglerDev> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(opts);
    } catch (error) {
      const taken = error instanceof Error && error.message.includes("Address already in use");
      if (!taken || opts.port !== undefined || attempt >= 3) throw error;
    }
  }
}

async function startOnce(opts: {
  vars: Record<string, string>;
  port?: number;
  persistTo?: string;
  stdio?: "inherit" | "pipe" | "ignore";
  readyTimeoutMs?: number;
  extraArgs?: string[];
  /** A prebuilt script to serve instead of wrangler.toml's main. */
  script?: string;
}): Promise<WranglerDev> {
  const [freeA, inspectorPort] = await freePorts(2);
  const port = opts.port ?? (freeA as number);
  const tmpState = opts.persistTo ? null : mkdtempSync(join(tmpdir(), "relay-state-"));
  const envDir = mkdtempSync(join(tmpdir(), "relay-env-"));
  const envFile = join(envDir, ".env");
  writeFileSync(
    envFile,
    Object.entries(opts.vars)
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
      .join("\n"),
    { mode: 0o600 },
  );
  const args = [
    "dev",
    ...(opts.script ? [opts.script] : []),
    "--ip",
    "127.0.0.1",
    "--port",
    String(port),
    "--inspector-port",
    String(inspectorPort),
    "--show-interactive-dev-session=false",
    "--persist-to",
    opts.persistTo ?? (tmpState as string),
    // Variables (secrets among them) go through a private file, never the command line, where
    // any user of the machine could read them in the process list.
    "--env-file",
    envFile,
    ...(opts.extraArgs ?? []),
  ];
  // This Node runs wrangler: the one on PATH may be older than wrangler accepts.
  const bin = join(process.cwd(), "node_modules", "wrangler", "bin", "wrangler.js");
  const child = spawn(process.execPath, [bin, ...args], {
    detached: true,
    stdio: opts.stdio === "inherit" ? "inherit" : ["ignore", opts.stdio ?? "pipe", opts.stdio ?? "pipe"],
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1" },
  });
  live.add(child);
  const chunks: string[] = [];
  const keep = (d: Buffer) => {
    chunks.push(d.toString("utf8"));
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const output = () => chunks.join("");
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once("exit", r));
      killGroup(child, "SIGTERM");
      const timer = setTimeout(() => killGroup(child, "SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    }
    live.delete(child);
    if (tmpState) rmSync(tmpState, { recursive: true, force: true });
    rmSync(envDir, { recursive: true, force: true });
  };
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 60_000);
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`wrangler dev exited early (${child.exitCode}):\n${output().slice(-20_000)}`);
    }
    try {
      const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2_000) });
      if (res.ok) break;
    } catch {
      // Not up yet.
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`wrangler dev not ready in time:\n${output().slice(-20_000)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { url, child, inspectorPort: inspectorPort as number, output, stop };
}
