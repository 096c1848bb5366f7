export const DEFAULT_RETRY_SCHEDULE = [5, 300, 1800, 7200, 18000, 36000, 36000];

export interface RelayConfig {
  oxenBaseUrl: string;
  oxenApiKey: string;
  retryScheduleSeconds: number[];
  webhookTimeoutMs: number;
  allowPrivateWebhooks: boolean;
  /** An edit Oxen has not finished by then fails with `timeout`. */
  maxEditSeconds: number;
  /** The models clients may use; any other is a 400. */
  allowedModels: string[];
  /** A terminal edit is erased this long after it ended. */
  retentionSeconds: number;
  /** Signs file and event-stream URLs. */
  fileUrlSecret: string;
  /** Outputs are copied into R2 before the terminal event (false: Oxen's links, `persisted: false`). */
  persistOutputs: boolean;
  /** An endpoint failing without a break for this long is disabled. */
  endpointDisableAfterSeconds: number;
}

/** A variable set to something the relay cannot use: it refuses to run rather than guess. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
  }
}

export function parseRetrySchedule(raw: string | undefined): number[] {
  if (raw === undefined || raw.trim() === "") return DEFAULT_RETRY_SCHEDULE;
  const parts = raw.split(",").map((s) => s.trim());
  if (parts.some((p) => !/^\d+(\.\d+)?$/.test(p))) {
    throw new ConfigError("WEBHOOK_RETRY_SCHEDULE", `"${raw}" is not a comma-separated list of seconds`);
  }
  return parts.map(Number);
}

function positiveInt(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw.trim() === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new ConfigError(name, `"${raw}" is not a positive whole number`);
  return n;
}

/** Reads and checks the relay's variables; throws ConfigError for any value it cannot use. */
export function readConfig(env: Env): RelayConfig {
  return {
    oxenBaseUrl: (env.OXEN_BASE_URL || "https://hub.oxen.ai/api").replace(/\/+$/, ""),
    oxenApiKey: env.OXEN_API_KEY ?? "",
    retryScheduleSeconds: parseRetrySchedule(env.WEBHOOK_RETRY_SCHEDULE),
    webhookTimeoutMs: positiveInt("WEBHOOK_TIMEOUT_MS", env.WEBHOOK_TIMEOUT_MS, 15_000),
    allowPrivateWebhooks: env.ALLOW_PRIVATE_WEBHOOKS === "true",
    maxEditSeconds: positiveInt("MAX_EDIT_SECONDS", env.MAX_EDIT_SECONDS, 86_400),
    retentionSeconds: positiveInt("RETENTION_SECONDS", env.RETENTION_SECONDS, 2_592_000),
    persistOutputs: env.PERSIST_OUTPUTS !== "false",
    endpointDisableAfterSeconds: positiveInt(
      "ENDPOINT_DISABLE_AFTER_SECONDS",
      env.ENDPOINT_DISABLE_AFTER_SECONDS,
      432_000,
    ),
    // Unset: a key of its own derived from the admin token (never the token itself).
    fileUrlSecret: env.FILE_URL_SECRET || `file-urls\n${env.ADMIN_TOKEN ?? "dev"}`,
    allowedModels: (env.ALLOWED_MODELS || "qwen-image-edit-2511")
      .split(",")
      .map((m) => m.trim())
      .filter(Boolean),
  };
}
