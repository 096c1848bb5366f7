import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { gzipSync } from "node:zlib";

export interface BundleResult {
  relayBytes: number;
  relayGzip: number;
  helloBytes: number;
  helloGzip: number;
}

/** `wrangler deploy --dry-run --outdir`, then the script's raw and gzipped size. */
function build(config: string): { bytes: number; gzip: number } {
  const out = mkdtempSync(join(tmpdir(), "relay-bundle-"));
  try {
    execFileSync(
      process.execPath,
      [
        resolve("node_modules/wrangler/bin/wrangler.js"),
        "deploy",
        "--dry-run",
        "--outdir",
        out,
        "-c",
        config,
      ],
      { stdio: "ignore", env: { ...process.env, WRANGLER_SEND_METRICS: "false" } },
    );
    return sizeOf(join(out, "index.js"));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

const sizeOf = (script: string) => {
  const bytes = readFileSync(script);
  return { bytes: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
};

/** The relay's size (of `relayBundle` when the run built it already) and a bare Hono app's. */
export function bundleSizes(relayBundle?: string): BundleResult {
  const relay = relayBundle ? sizeOf(relayBundle) : build("wrangler.toml");
  const hello = build("test/bench/hello/wrangler.toml");
  return { relayBytes: relay.bytes, relayGzip: relay.gzip, helloBytes: hello.bytes, helloGzip: hello.gzip };
}
