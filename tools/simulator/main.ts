import { startSimulator } from "./server.ts";

function numberFromEnv(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === "") return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0)
    throw new Error(`${name} must be a non-negative number, got "${raw}"`);
  return value;
}

async function main(): Promise<void> {
  const apiKeys = (process.env.SIM_API_KEYS ?? "sim_dev_key")
    .split(",")
    .map((k) => k.trim())
    .filter((k) => k !== "");
  const running = await startSimulator({
    port: numberFromEnv("SIM_PORT") ?? 8788,
    host: process.env.SIM_HOST || "127.0.0.1",
    apiKeys: apiKeys.length > 0 ? apiKeys : ["sim_dev_key"],
    queuedMs: numberFromEnv("SIM_QUEUED_MS"),
    processingMs: numberFromEnv("SIM_PROCESSING_MS"),
  });
  console.log(`Oxen simulator listening on ${running.url} (API base URL ${running.baseUrl})`);

  let stopping = false;
  const stop = (): void => {
    if (stopping) process.exit(1); // second signal: give up waiting
    stopping = true;
    void running.close().then(() => process.exit(0));
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

main().catch((error: unknown) => {
  console.error(`Oxen simulator failed to start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
