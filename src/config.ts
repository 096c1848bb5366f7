export const DEFAULT_RETRY_SCHEDULE = [5, 300, 1800, 7200, 18000, 36000, 36000];

export interface RelayConfig {
  oxenBaseUrl: string;
  oxenApiKey: string;
  retryScheduleSeconds: number[];
  webhookTimeoutMs: number;
  allowPrivateWebhooks: boolean;
}

export function parseRetrySchedule(raw: string | undefined): number[] {
  if (!raw || raw.trim() === "") return DEFAULT_RETRY_SCHEDULE;
  const parts = raw.split(",").map((s) => Number(s.trim()));
  if (parts.some((n) => !Number.isFinite(n) || n < 0)) return DEFAULT_RETRY_SCHEDULE;
  return parts;
}

function positiveInt(raw: string | undefined, fallback: number): number {
  const n = Number(raw);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

export function readConfig(env: Env): RelayConfig {
  return {
    oxenBaseUrl: (env.OXEN_BASE_URL || "https://hub.oxen.ai/api").replace(/\/+$/, ""),
    oxenApiKey: env.OXEN_API_KEY ?? "",
    retryScheduleSeconds: parseRetrySchedule(env.WEBHOOK_RETRY_SCHEDULE),
    webhookTimeoutMs: positiveInt(env.WEBHOOK_TIMEOUT_MS, 15_000),
    allowPrivateWebhooks: env.ALLOW_PRIVATE_WEBHOOKS === "true",
  };
}
