import type { Received, Receiver, Reply } from "../../tools/local/receiver.ts";
import { mulberry32 } from "../../tools/simulator/random.ts";
import { receiverReply } from "./faults.ts";
import type { ChaosOptions, Tracked } from "./options.ts";
import { type RelayClient, sleep } from "./relay.ts";

/**
 * The clients' endpoints in a chaos run (contract v1.1): each client has `endpointsPerClient`
 * endpoints whose receivers fail like the edits' own (one of them subscribed to edit.succeeded and
 * edit.failed only), and one paused from the start and resumed once the logs hold `resumeAt` of
 * the run's edits, whose receiver fails the same way. At the end, every event of the client's log
 * (`GET /v1/events`) must have reached every endpoint subscribed to its type with its id, the
 * log must hold every edit's event under the id its own webhooks carried, and the paused
 * endpoint must have received nothing before the resume and its held events in the log's order.
 */

const EDIT_TYPES = ["edit.succeeded", "edit.failed", "edit.cancelled"];
const FILTERED = ["edit.succeeded", "edit.failed"];

export interface ChaosEndpoint {
  client: number;
  id: string;
  path: string;
  /** The event types it is subscribed to. */
  events: string[];
  paused: boolean;
  /** Date.now() just before the resume was asked. */
  resumedAt?: number;
  /** Ids in the log when it was resumed, in the log's order: held for it while paused. */
  held?: string[];
}

export interface LoggedEvent {
  id: string;
  type: string;
  timestamp: string;
  data: { id?: string; object?: string };
}

interface Client {
  api_key: string;
  webhook_secret: string;
}

export class ChaosEndpoints {
  readonly list: ChaosEndpoint[] = [];
  /** Each client's log, as last read. */
  readonly logs = new Map<number, LoggedEvent[]>();
  readonly faults: Record<string, number> = { 500: 0, timeout: 0, reset: 0 };
  readonly #relay: RelayClient;
  readonly #receiver: Receiver;
  readonly #o: ChaosOptions;
  readonly #clients: Client[];
  readonly #paths = new Set<string>();
  /** Its own randomness: the run's other random choices stay those of the seed. */
  readonly #random: () => number;
  #release = false;

  constructor(relay: RelayClient, receiver: Receiver, clients: Client[], o: ChaosOptions) {
    this.#relay = relay;
    this.#receiver = receiver;
    this.#clients = clients;
    this.#o = o;
    this.#random = mulberry32(o.seed ^ 0x5eed);
  }

  /** Creates every client's endpoints (before any edit), pausing the one to resume later. */
  async setup(): Promise<void> {
    for (const [k, client] of this.#clients.entries()) {
      const plan = Array.from({ length: this.#o.endpointsPerClient }, (_, j) => ({
        path: `/c${k}/ep${j}`,
        events: j === 1 ? FILTERED : EDIT_TYPES,
        paused: false,
      }));
      if (this.#o.pausedEndpoint) plan.push({ path: `/c${k}/paused`, events: EDIT_TYPES, paused: true });
      for (const p of plan) {
        this.#receiver.secrets(p.path, [client.webhook_secret]);
        this.#paths.add(p.path);
        const made = await this.#relay.call("POST", "/v1/endpoints", client.api_key, {
          url: `${this.#receiver.url}${p.path}`,
          events: p.events,
          description: `chaos ${p.path}`,
        });
        if (made.status !== 201) throw new Error(`chaos: POST /v1/endpoints answered ${made.status}`);
        const ep: ChaosEndpoint = { client: k, id: made.body.id, ...p };
        if (p.paused) {
          const res = await this.#relay.call("PATCH", `/v1/endpoints/${ep.id}`, client.api_key, {
            status: "paused",
          });
          if (res.status !== 200 || res.body?.status !== "paused")
            throw new Error(`chaos: pausing ${ep.id} answered ${res.status} ${JSON.stringify(res.body)}`);
        }
        this.list.push(ep);
      }
    }
  }

  /** The reply for an endpoint's path (fails like any receiver); undefined for any other path. */
  reply(path: string): Reply | undefined {
    if (!this.#paths.has(path)) return undefined;
    return receiverReply(this.#random, this.#o.receiverFailure, this.#o.webhookTimeoutMs, this.faults);
  }

  /**
   * Resumes the paused endpoints once the clients' logs hold `events` events between them (so
   * that they held that many), or at once when `release` is called (the run has played every
   * edit's fate: nothing more would be held). Each notes what it held: the log just before.
   */
  async resumeWhenLogged(events: number, deadline: number): Promise<void> {
    if (!this.list.some((ep) => ep.paused)) return;
    for (;;) {
      if (this.#release || Date.now() > deadline) break;
      let n = 0;
      for (const k of this.#clients.keys()) n += (await this.#readLog(k))?.length ?? 0;
      if (n >= events) break;
      await sleep(1_000);
    }
    await this.#resume(deadline);
  }

  release(): void {
    this.#release = true;
  }

  async #resume(deadline: number): Promise<void> {
    await Promise.all(
      this.list
        .filter((ep) => ep.paused)
        .map(async (ep) => {
          const client = this.#clients[ep.client] as Client;
          let log = await this.#readLog(ep.client);
          while (log === null && Date.now() < deadline) {
            await sleep(250);
            log = await this.#readLog(ep.client);
          }
          if (log === null) throw new Error(`chaos: the log of client ${ep.client} could not be read`);
          ep.held = log.filter((e) => ep.events.includes(e.type)).map((e) => e.id);
          ep.resumedAt = Date.now();
          const res = await this.#relay.retrying("PATCH", `/v1/endpoints/${ep.id}`, client.api_key, {
            status: "active",
          });
          if (res.status !== 200 || res.body?.status !== "active")
            throw new Error(`chaos: resuming ${ep.id} answered ${res.status} ${JSON.stringify(res.body)}`);
        }),
    );
  }

  /**
   * Waits until every client's log holds all its tracked edits' events and every endpoint has
   * had each event of its types answered 2xx under the event's id, or until `deadline`.
   */
  async settle(tracked: Tracked[], deadline: number): Promise<void> {
    while (!(await this.#settled(tracked)) && Date.now() < deadline) await sleep(500);
  }

  async #settled(tracked: Tracked[]): Promise<boolean> {
    for (const k of this.#clients.keys()) {
      const log = await this.#readLog(k);
      if (log === null) return false;
      this.logs.set(k, log);
    }
    return this.outcome(tracked).missing === 0;
  }

  /** The whole log of client `k`, 100 at a time through the cursor; null if a page was refused. */
  async #readLog(k: number): Promise<LoggedEvent[] | null> {
    const key = (this.#clients[k] as Client).api_key;
    const all: LoggedEvent[] = [];
    let after: string | null = null;
    for (;;) {
      const q: string = after ? `&after=${after}` : "";
      const page = await this.#relay.call("GET", `/v1/events?limit=100${q}`, key);
      // A refusal, or no JSON (the runtime went away under the answer): read again later.
      if (page.status !== 200 || !Array.isArray(page.body?.data)) return null;
      all.push(...page.body.data);
      if (page.body.next_cursor === null) return all;
      after = page.body.next_cursor;
    }
  }

  /** What the endpoints got against the logs as last read. */
  outcome(tracked: Tracked[]): EndpointOutcome {
    const o: EndpointOutcome = {
      endpoints: this.list.length,
      paused: this.list.filter((e) => e.paused).length,
      pairs: 0,
      delivered: 0,
      lost: 0,
      missing: 0,
      duplicates: 0,
      attempts: 0,
      badSignatures: 0,
      strays: 0,
      unsubscribed: 0,
      logMissing: 0,
      logWrong: 0,
      held: 0,
      heldOutOfOrder: 0,
      beforeResume: 0,
      perEndpoint: [],
      wrong: [],
    };
    const byPath = new Map<string, Received[]>();
    for (const r of this.#receiver.received) {
      if (!this.#paths.has(r.path)) continue;
      const list = byPath.get(r.path);
      if (list) list.push(r);
      else byPath.set(r.path, [r]);
    }
    for (const ep of this.list) {
      const log = this.logs.get(ep.client) ?? [];
      const byId = new Map(log.map((e) => [e.id, e]));
      const got = byPath.get(ep.path) ?? [];
      o.attempts += got.length;
      const accepted = new Map<string, number>();
      for (const r of got) {
        const id = r.headers["webhook-id"] ?? "";
        if (r.verified !== true) o.badSignatures++;
        const e = byId.get(id);
        const body = JSON.parse(r.body) as { type: string; data: { id?: string } };
        if (!e || e.type !== body.type || e.data.id !== body.data.id) {
          o.strays++;
          o.wrong.push(`${ep.path}: ${id} (${body.type} of ${body.data.id}) is not that event of the log`);
        } else if (!ep.events.includes(e.type)) {
          o.unsubscribed++;
          o.wrong.push(`${ep.path}: got ${id}, a ${e.type}, not subscribed`);
        }
        if (r.answered >= 200 && r.answered < 300) accepted.set(id, (accepted.get(id) ?? 0) + 1);
      }
      const expected = log.filter((e) => ep.events.includes(e.type));
      const lost = expected.filter((e) => !accepted.has(e.id));
      o.pairs += expected.length;
      o.delivered += expected.length - lost.length;
      o.missing += lost.length;
      for (const n of accepted.values()) o.duplicates += n - 1;
      for (const e of lost.slice(0, 5))
        o.wrong.push(`${ep.path}: ${e.id} (${e.type} of ${e.data.id}) never delivered`);
      let order = "";
      if (ep.paused && ep.resumedAt !== undefined) {
        const early = got.filter((r) => r.at < (ep.resumedAt as number)).length;
        o.beforeResume += early;
        if (early > 0) o.wrong.push(`${ep.path}: ${early} requests while paused`);
        const held = ep.held ?? [];
        o.held += held.length;
        // The first arrival of each held event: in the log's order, each after the one before.
        const first = held.map((id) => got.findIndex((r) => r.headers["webhook-id"] === id));
        const outOfOrder = first.filter(
          (at, i) => i > 0 && at !== -1 && at < (first[i - 1] as number),
        ).length;
        o.heldOutOfOrder += outOfOrder;
        if (outOfOrder > 0) {
          const seen = held.map((id, i) => `${id}@${first[i]}`).join(" ");
          o.wrong.push(`${ep.path}: held events arrived out of the log's order: ${seen}`);
        }
        order = `, ${held.length} held, ${outOfOrder} out of order, ${early} before the resume`;
      }
      const kind = ep.paused
        ? "paused, resumed"
        : ep.events.length < EDIT_TYPES.length
          ? "failing, 2 types"
          : "failing";
      o.perEndpoint.push([
        `  endpoint ${ep.path} (${kind}): delivered / expected, lost`,
        `${expected.length - lost.length} / ${expected.length}, ${lost.length}${order}`,
      ]);
    }
    o.lost = o.missing;

    // The log: every tracked edit's event, once, of its final type, under the id its webhooks had.
    for (const t of tracked) {
      const log = this.logs.get(t.client) ?? [];
      const events = log.filter((e) => e.data.id === t.id);
      const type = `edit.${t.final?.status ?? t.expected}`;
      if (events.length === 0) {
        o.logMissing++;
        o.missing++;
        o.wrong.push(`edit ${t.index} ${t.id}: no event in the log`);
        continue;
      }
      const ids = new Set(
        t.paths.flatMap((p) => this.#receiver.on(p).map((r) => r.headers["webhook-id"] as string)),
      );
      const e = events[0] as LoggedEvent;
      if (events.length > 1 || e.type !== type || [...ids].some((id) => id !== e.id)) {
        o.logWrong++;
        o.wrong.push(
          `edit ${t.index} ${t.id}: logged ${events.map((x) => `${x.id} ${x.type}`).join(", ")}; ${type} expected, webhooks carried ${[...ids]}`,
        );
      }
    }
    return o;
  }
}

export interface EndpointOutcome {
  endpoints: number;
  paused: number;
  /** (event, endpoint) pairs the logs call for: each event to each endpoint subscribed to its type. */
  pairs: number;
  delivered: number;
  lost: number;
  /** Lost pairs and tracked edits missing from the log: what the settle phase waits on. */
  missing: number;
  /** 2xx answers beyond the first for an (event, endpoint) pair: at-least-once, same id. */
  duplicates: number;
  attempts: number;
  badSignatures: number;
  /** Requests whose id is not in the log, or whose payload is another event's. */
  strays: number;
  unsubscribed: number;
  logMissing: number;
  logWrong: number;
  held: number;
  heldOutOfOrder: number;
  beforeResume: number;
  perEndpoint: [string, string][];
  wrong: string[];
}

export function endpointFigures(
  o: EndpointOutcome,
  faults: Record<string, number>,
): [string, string | number][] {
  return [
    ["endpoints (failing randomly / paused, then resumed)", `${o.endpoints - o.paused} / ${o.paused}`],
    ["  (event, endpoint) pairs expected (GET /v1/events × subscriptions)", o.pairs],
    ["  delivered (a 2xx at least once, the event's webhook-id)", o.delivered],
    ["  lost", o.lost],
    ...o.perEndpoint,
    ["  endpoint attempts received", o.attempts],
    ["  accepted more than once (same webhook-id)", o.duplicates],
    ["  requests not an event of the log (id or payload)", o.strays],
    ["  events of a type not subscribed to", o.unsubscribed],
    ["  bad signatures", o.badSignatures],
    ["  edits missing from the event log", o.logMissing],
    ["  edits logged twice, with another type or another id than their webhooks'", o.logWrong],
    ["  events held by the paused endpoints at the resume", o.held],
    ["  held events out of the log's order", o.heldOutOfOrder],
    ["  requests to a paused endpoint before its resume", o.beforeResume],
    [
      "  endpoint receiver faults (500 / timeout / reset)",
      `${faults[500]} / ${faults.timeout} / ${faults.reset}`,
    ],
  ];
}

/** Whether the endpoints held: nothing lost, strayed or out of order, and the pause did hold events. */
export const endpointsOk = (o: EndpointOutcome) =>
  o.lost === 0 &&
  o.strays === 0 &&
  o.unsubscribed === 0 &&
  o.badSignatures === 0 &&
  o.logMissing === 0 &&
  o.logWrong === 0 &&
  o.heldOutOfOrder === 0 &&
  o.beforeResume === 0 &&
  (o.paused === 0 || o.held > 0);
