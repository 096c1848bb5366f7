import { readConfig } from "../core/config";
import { Endpoints } from "../endpoints/service";
import type { Ledger } from "./ledger";

/**
 * A client object's endpoints, wired to it: the relay's configuration, the client's live
 * secrets, its usage counters, and each backlog attempt added to its edit's `/deliveries`.
 */
export function clientEndpoints(
  ctx: DurableObjectState,
  env: Env,
  of: { secrets: () => Promise<string[]>; counters: () => Ledger },
): Endpoints {
  const config = readConfig(env);
  of.counters(); // the tables, made once
  return new Endpoints(ctx.storage.sql, {
    config: {
      timeoutMs: config.webhookTimeoutMs,
      scheduleSeconds: config.retryScheduleSeconds,
      disableAfterSeconds: config.endpointDisableAfterSeconds,
      retentionSeconds: config.retentionSeconds,
      allowPrivate: config.allowPrivateWebhooks,
    },
    secrets: of.secrets,
    // Best effort: a lost copy costs a line of the edit's attempt log, never a delivery.
    logAttempt: (editId, attempt) =>
      ctx.waitUntil(
        env.EDIT.getByName(editId)
          .recordAttempt(attempt)
          .catch(() => {}),
      ),
    countWebhook: (model, delivered) =>
      of.counters().countWebhooks(model ?? "", Date.now(), delivered ? 1 : 0, delivered ? 0 : 1),
  });
}
