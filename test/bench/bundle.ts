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
    const script = readFileSync(join(out, "index.js"));
    return { bytes: script.length, gzip: gzipSync(script, { level: 9 }).length };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

export function bundleSizes(): BundleResult {
  const relay = build("wrangler.toml");
  const hello = build("test/bench/hello/wrangler.toml");
  return { relayBytes: relay.bytes, relayGzip: relay.gzip, helloBytes: hello.bytes, helloGzip: hello.gzip };
}
