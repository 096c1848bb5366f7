import { DurableObject } from "cloudflare:workers";
import { DIRECT_LEASE_MS, type EndpointView } from "../endpoints/policy";
import type {
  DirectTarget,
  EndpointInput,
  EndpointPatch,
  Endpoints,
  EventRecord,
} from "../endpoints/service";
import { AlarmSlot } from "../lib/alarm";
import { sha256Hex } from "../lib/crypto";
import { migrate, schemaVersion } from "../lib/schema";
import type { EndpointReport } from "../webhooks/dispatcher";
import { clientEndpoints } from "./endpoints";
import { Ledger, type Outcomes, type UsageRow } from "./ledger";
import { type Admission, type ClientLimits, utcDay } from "./limits";
import { CLIENT_MIGRATIONS } from "./migrations";
import { RecordKeeper } from "./record-keeper";
import { type ClientRecord, type ClientStatus, limitsOf, liveSecrets, newApiKey, rotated } from "./store";

/** A client as the admin API shows it: no key, no secrets. */
export interface ClientView {
  id: string;
  name: string;
  status: ClientStatus;
  limits: ClientLimits;
  created_at: string;
}

export interface ClientPatch {
  name?: string;
  status?: ClientStatus;
  limits?: Partial<ClientLimits>;
}

const view = (r: ClientRecord): ClientView => ({
  id: r.id,
  name: r.name,
  status: r.status ?? "active",
  limits: limitsOf(r),
  created_at: r.created_at,
});

/**
 * One client: the authoritative record, changed only here, one change at a time (two rotations
 * can never drop a secret an admin was just given), and its durable counters: running and daily
 * generations, usage, redeliveries. KV holds projections for authentication anywhere, written in
 * the order the changes were made. Secrets are sealed at rest under ENCRYPTION_KEY; records older
 * than sealing, or that lived only in KV, are adopted and sealed on their next write.
 */
export class ClientObject extends DurableObject<Env> {
  readonly #records: RecordKeeper;
  #ledger: Ledger | null = null;
  #endpointsOf: Endpoints | null = null;
  readonly #alarm = new AlarmSlot(this.ctx.storage);

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#records = new RecordKeeper(ctx, env);
  }

  /** Stores a new client (a repeated call with the same record changes nothing). */
  async create(record: ClientRecord): Promise<ClientView> {
    if (!this.#records.current) await this.#records.commit(record);
    return view(this.#records.current ?? record);
  }

  async view(id: string): Promise<ClientView | null> {
    const r = await this.#records.get(id);
    return r ? view(r) : null;
  }

  /** The secrets that sign this client's webhooks now (a disabled client's accepted edits still deliver). */
  async signingSecrets(id: string): Promise<string[]> {
    const r = await this.#records.get(id);
    return r ? liveSecrets(r) : [];
  }

  /** A new current secret; the old one keeps signing for 24 h. null for an unknown client. */
  async rotateSecret(id: string, now = Date.now()): Promise<ClientRecord | null> {
    const r = await this.#records.get(id);
    if (!r) return null;
    return this.#records.commit(rotated(r, now));
  }

  /** A new api key; the old one is refused at once here and everywhere once KV catches up. */
  async rotateKey(id: string): Promise<{ api_key: string } | null> {
    const r = await this.#records.get(id);
    if (!r) return null;
    const apiKey = newApiKey();
    await this.#records.commit({ ...r, key_hash: await sha256Hex(apiKey) }, r.key_hash);
    return { api_key: apiKey };
  }

  async update(id: string, patch: ClientPatch): Promise<ClientView | null> {
    const r = await this.#records.get(id);
    if (!r) return null;
    const limits = patch.limits ? { ...r.limits, ...patch.limits } : r.limits;
    return view(
      await this.#records.commit({
        ...r,
        ...(patch.name !== undefined ? { name: patch.name } : {}),
        ...(patch.status !== undefined ? { status: patch.status } : {}),
        ...(limits ? { limits } : {}),
      }),
    );
  }

  /** Reserves an edit's generations against the client's quotas, before anything reaches Oxen. */
  async reserve(id: string, editId: string, model: string, generations: number): Promise<Admission> {
    const r = await this.#records.get(id);
    if (!r) return { ok: false, retryAfterS: 60, reason: "unknown client" };
    return this.#counters().reserve(limitsOf(r), editId, model, generations, Date.now());
  }

  async release(
    editId: string,
    model: string,
    opts: { refund?: boolean; outcomes?: Outcomes },
  ): Promise<void> {
    this.#counters().release(editId, model, Date.now(), opts);
  }

  async countWebhooks(model: string, delivered: number, failed: number): Promise<void> {
    this.#counters().countWebhooks(model, Date.now(), delivered, failed);
  }

  async openStream(streamId: string): Promise<Admission> {
    return this.#counters().openStream(streamId, Date.now());
  }

  async closeStream(streamId: string): Promise<void> {
    this.#counters().closeStream(streamId);
  }

  async redeliver(editId: string): Promise<Admission> {
    return this.#counters().redeliver(editId, Date.now());
  }

  async usage(
    id: string,
    from: string,
    to: string,
  ): Promise<{
    data: UsageRow[];
    limits: ClientLimits;
    today: { active_generations: number; generations: number };
  }> {
    const r = await this.#records.get(id);
    const ledger = this.#counters();
    const now = Date.now();
    return {
      data: ledger.usage(from, to),
      limits: limitsOf(r ?? {}),
      today: {
        active_generations: ledger.activeGenerations(now),
        generations: ledger.generationsOn(utcDay(now)),
      },
    };
  }

  /**
   * A terminal edit reports in, once or more (idempotent): its generations stop counting as
   * running, its outcomes are counted, and its event joins the log. Answers the endpoints the
   * edit's object sends the event to itself.
   */
  async settle(
    editId: string,
    model: string,
    outcomes: Outcomes,
    event: EventRecord | null,
  ): Promise<{ endpoints: DirectTarget[] }> {
    const now = Date.now();
    this.#counters().release(editId, model, now, { outcomes });
    const appended = event ? this.#endpoints().append(event, now) : { direct: [], queued: false };
    // The alarm moves for a backlog or the log's first expiry; for first attempts handed out it
    // need only fire by their lease (a burst of settles then costs no alarm write each).
    if (appended.queued || !this.#alarm.isSet()) await this.#arm();
    else if (appended.direct.length > 0) await this.#alarm.setEarlier(now + DIRECT_LEASE_MS + 1);
    return { endpoints: appended.direct };
  }

  /** What edit objects' first attempts to endpoints came to (one call per delivery pass). */
  async endpointReports(reports: EndpointReport[]): Promise<(number | null)[]> {
    const endpoints = this.#endpoints();
    const now = Date.now();
    const nexts = reports.map((r) =>
      endpoints.report(r.endpoint_id, r.event_id, r.result, r.redelivery, now),
    );
    // Only a failure queues something with a time of its own (or a disable, its notices).
    const soonest = Math.min(...nexts.filter((t): t is number => t !== null));
    if (endpoints.takeRearm()) await this.#arm();
    else if (Number.isFinite(soonest)) await this.#alarm.setEarlier(soonest);
    // The last first attempt reported: the lease alarm is no longer needed (an idle relay runs
    // nothing but the hub's watchdog).
    else if (endpoints.store.oldestDirect() === null) await this.#arm();
    return nexts;
  }

  async createEndpoint(input: EndpointInput): Promise<{ endpoint: EndpointView | null }> {
    const made = this.#endpoints().create(input, Date.now());
    return { endpoint: made === "limit" ? null : made };
  }

  async listEndpoints(): Promise<EndpointView[]> {
    return this.#endpoints().list(Date.now());
  }

  async getEndpoint(id: string): Promise<EndpointView | null> {
    return this.#endpoints().get(id, Date.now());
  }

  async updateEndpoint(id: string, patch: EndpointPatch): Promise<EndpointView | null> {
    const view = this.#endpoints().update(id, patch, Date.now());
    // Armed first: if this instance goes before the flush ends, the alarm picks it up.
    await this.#arm();
    if (view?.status === "active") this.ctx.waitUntil(this.#deliver());
    return view;
  }

  async deleteEndpoint(id: string): Promise<boolean> {
    const gone = this.#endpoints().remove(id);
    await this.#arm();
    return gone;
  }

  async recoverEndpoint(id: string, sinceMs: number): Promise<number | null> {
    const n = this.#endpoints().recover(id, sinceMs, Date.now());
    await this.#arm();
    if (n !== null) this.ctx.waitUntil(this.#deliver());
    return n;
  }

  async events(after: string | undefined, type: string | undefined, limit: number) {
    return this.#endpoints().events(after, type, limit);
  }

  /** An erased edit: its events lose their payload here and nothing more is sent for them. */
  async forgetEdit(editId: string): Promise<void> {
    this.#endpoints().forgetEdit(editId, Date.now());
    await this.#arm();
  }

  /** The backlogs, the reclaiming of unreported first attempts, and retention of the log. */
  override async alarm(): Promise<void> {
    this.#alarm.forget();
    if (schemaVersion(this.ctx.storage.sql) === 0) return;
    const endpoints = this.#endpoints();
    endpoints.sweep(Date.now());
    await endpoints.deliverDue(Date.now());
    await this.#arm();
  }

  async #deliver(): Promise<void> {
    await this.#endpoints().deliverDue(Date.now());
    await this.#arm();
  }

  /** The one alarm: the earliest thing the endpoints wait for. */
  async #arm(): Promise<void> {
    await this.#alarm.set(this.#endpoints().nextDue());
  }

  #endpoints(): Endpoints {
    this.#endpointsOf ??= clientEndpoints(this.ctx, this.env, {
      secrets: async () => (this.#records.current ? liveSecrets(this.#records.current) : []),
      counters: () => this.#counters(),
    });
    return this.#endpointsOf;
  }

  /** The counters; their tables are made on first use (once per instance, not per call). */
  #counters(): Ledger {
    if (!this.#ledger) {
      migrate(this.ctx.storage, CLIENT_MIGRATIONS);
      this.#ledger = new Ledger(this.ctx.storage.sql);
    }
    return this.#ledger;
  }
}
