import type { RelayConfig } from "../core/config";
import { DIRECT_LEASE_MS } from "../endpoints/policy";
import { Dispatcher } from "../webhooks/dispatcher";
import type { Outbox } from "../webhooks/outbox";
import type { Redelivery } from "./creation";
import { type Delivery, toDelivery } from "./deliveries";
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
    onSettled: (delivered, failed) => {
      const snap = store.load();
      if (!snap) return;
      // Usage counters: best effort (a lost count skews a statistic, never a delivery).
      const count = env.CLIENT.getByName(snap.client_id).countWebhooks(snap.edit.model, delivered, failed);
      ctx.waitUntil(count.catch(() => {}));
    },
    // Past its lease the client's object has taken the event back into the endpoint's backlog.
    endpointDeadlineMs: DIRECT_LEASE_MS - 10_000,
    onEndpointAttempts: async (reports) => {
      const snap = store.load();
      if (!snap) return reports.map(() => null);
      return env.CLIENT.getByName(snap.client_id).endpointReports(reports);
    },
  });
}

/** A page of the attempt log after the attempt `after` (its sequence number, the page cursor). */
export function deliveryPage(
  outbox: Outbox,
  limit: number,
  after: number,
): { data: Delivery[]; next_cursor: string | null } {
  const page = outbox.attemptLog.page(limit, after);
  const last = page.rows.at(-1);
  return { data: page.rows.map(toDelivery), next_cursor: page.more && last ? String(last.seq) : null };
}

/** Queues the edit's terminal (last) event again; the URLs it goes to (not those that answered 410). */
export function requeueLast(outbox: Outbox): Redelivery | null {
  const event = outbox.events().at(-1);
  if (!event) return null;
  const urls = outbox
    .rows()
    .filter((r) => r.event_id === event.event_id && r.state !== "gone" && !r.endpoint_id)
    .map((r) => r.url);
  outbox.requeue(event.event_id, Date.now());
  return { event_id: event.event_id, type: event.type, urls };
}
