import type { RelayConfig } from "../core/config";
import { Dispatcher } from "../webhooks/dispatcher";
import type { SecretsCache } from "./secrets";
import type { EditStore } from "./store";

/** The edit's webhook dispatcher: its outbox, signed with the client's live secrets, counted in its usage. */
export function newDispatcher(
  ctx: DurableObjectState,
  env: Env,
  config: RelayConfig,
  store: EditStore,
  secrets: SecretsCache,
): Dispatcher {
  return new Dispatcher(ctx.storage.sql, {
    timeoutMs: config.webhookTimeoutMs,
    scheduleSeconds: config.retryScheduleSeconds,
    allowPrivate: config.allowPrivateWebhooks,
    editId: () => store.load()?.edit.id,
    secrets: () => secrets.read(store.load()?.client_id),
    onSettled: (delivered) => {
      const snap = store.load();
      if (!snap) return;
      // Usage counters: best effort (a lost count skews a statistic, never a delivery).
      const count = env.CLIENT.getByName(snap.client_id).countWebhook(snap.edit.model, delivered);
      ctx.waitUntil(count.catch(() => {}));
    },
  });
}
