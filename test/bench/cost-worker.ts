/**
 * The relay with its bindings counted, for `npm run bench:cost` only (test/bench/cost.ts builds
 * it as the entry point of `wrangler deploy --dry-run`). It imports the relay's own default export
 * and Durable Object classes and wraps, without changing what they do:
 *
 * - `env` (per class): KV get/put/list/delete, R2 operations, each Durable Object stub call
 *   (one RPC method call or `fetch` = one billed Durable Object request), the rate limiters, ASSETS;
 * - `ctx.storage` inside each object: every `sql.exec` cursor's rowsRead/rowsWritten, the
 *   key-value API, setAlarm/deleteAlarm/getAlarm, deleteAll; `ctx.waitUntil`;
 * - each object's entry points (RPC methods, `fetch`, `alarm`), and the time it is active;
 * - `globalThis.fetch` (subrequests), attributed to the class running when it was called;
 * - Worker requests.
 *
 * Counters are module globals: locally (workerd) the Worker and all its objects share one
 * isolate, which the runner checks (the objects' counts must reach the Worker's `/_cost/ops`).
 * `GET /_cost/ops` answers them; `POST /_cost/reset` zeroes them. Neither is counted.
 */
// @ts-expect-error The Worker's tsconfig has no Node types; workerd has the module (nodejs_compat).
import { AsyncLocalStorage } from "node:async_hooks";
import relay, {
  ClientObject as RelayClient,
  EditObject as RelayEdit,
  Hub as RelayHub,
} from "../../src/index";

type Scope = "Worker" | "Hub" | "EditObject" | "ClientObject";
interface Frame {
  scope: Scope;
  /** What started this work: a Worker route, or an object's entry point (`rpc:name`, `alarm`, `fetch`). */
  trigger: string;
  self?: object;
}

interface ContextStore<T> {
  run<R>(store: T, fn: () => R): R;
  getStore(): T | undefined;
}
const als: ContextStore<Frame> = new AsyncLocalStorage();
const counts = new Map<string, number>();
/** Made on first use: random values are not allowed in the global scope. */
let isolate: string | null = null;

function addKey(scope: string, trigger: string, op: string, n: number): void {
  if (n === 0) return;
  const k = `${scope}\t${trigger}\t${op}`;
  counts.set(k, (counts.get(k) ?? 0) + n);
}

/** `scope` does the operation; the trigger is whatever entry point the current async context began in. */
function add(scope: string, op: string, n = 1): void {
  const f = als.getStore();
  addKey(scope, f && f.scope === scope ? f.trigger : "-", op, n);
}

// ---- SQLite rows: read off each cursor when the counters are read (cursors fill in as consumed).

interface TrackedCursor {
  cursor: { rowsRead: number; rowsWritten: number };
  scope: string;
  trigger: string;
  /** The statement, whitespace collapsed, for the per-statement breakdown. */
  query: string;
  read: number;
  written: number;
}
let cursors: TrackedCursor[] = [];

function foldCursors(): void {
  for (const t of cursors) {
    const r = t.cursor.rowsRead;
    const w = t.cursor.rowsWritten;
    addKey(t.scope, t.trigger, "sql.rowsRead", r - t.read);
    addKey(t.scope, t.trigger, "sql.rowsWritten", w - t.written);
    addKey(t.scope, "-", `sqlr ${t.query}`, r - t.read);
    addKey(t.scope, "-", `sqlw ${t.query}`, w - t.written);
    t.read = r;
    t.written = w;
  }
  // Cursors are nearly always consumed at once (`one()`, `toArray()`, or a write); keep the
  // recent ones in case one is still being read.
  if (cursors.length > 20_000) cursors = cursors.slice(-2_000);
}

// ---- Time each object is active (an entry point or a waitUntil under way), per class.

interface Activity {
  inflight: number;
  since: number;
  activeMs: number;
}
const activity = new Map<string, Activity>();
const sizes = new Map<string, { scope: Scope; bytes: number }>();

function begin(key: string): void {
  let a = activity.get(key);
  if (!a) {
    a = { inflight: 0, since: 0, activeMs: 0 };
    activity.set(key, a);
  }
  if (a.inflight++ === 0) a.since = Date.now();
}

function end(key: string): void {
  const a = activity.get(key);
  if (!a) return;
  if (--a.inflight === 0) a.activeMs += Date.now() - a.since;
}

function track<T>(key: string, p: Promise<T>): Promise<T> {
  begin(key);
  return p.finally(() => end(key));
}

// ---- Proxies. Native bindings refuse a Proxy as `this`: every method is called on its target.

function method(target: object, prop: string | symbol): unknown {
  const v = Reflect.get(target, prop, target);
  return typeof v === "function" ? v.bind(target) : v;
}

function countedMethods<T extends object>(
  target: T,
  scope: string,
  prefix: string,
  ops: Record<string, string>,
): T {
  return new Proxy(target, {
    get(t, prop) {
      const op = typeof prop === "string" ? ops[prop] : undefined;
      const v = method(t, prop);
      if (!op || typeof v !== "function") return v;
      return (...args: unknown[]) => {
        add(scope, `${prefix}.${op}`);
        return (v as (...a: unknown[]) => unknown)(...args);
      };
    },
  });
}

/** A Durable Object stub: each method call (RPC) or `fetch` is one billed request to the object. */
function countedStub<T extends object>(stub: T, scope: string, ns: string): T {
  return new Proxy(stub, {
    get(t, prop) {
      if (typeof prop === "symbol" || prop === "then" || prop === "id" || prop === "name") {
        return Reflect.get(t, prop, t);
      }
      return (...args: unknown[]) => {
        add(scope, `do.request`);
        add(scope, `do.${ns}.${prop}`);
        return (t as Record<string, (...a: unknown[]) => unknown>)[prop]?.(...args);
      };
    },
  });
}

function countedNamespace<T extends object>(ns: T, scope: string, name: string): T {
  return new Proxy(ns, {
    get(t, prop) {
      const v = method(t, prop);
      if (prop === "getByName" || prop === "get") {
        return (...args: unknown[]) => countedStub((v as (...a: unknown[]) => object)(...args), scope, name);
      }
      return v;
    },
  });
}

const KV_OPS = { get: "get", getWithMetadata: "get", put: "put", delete: "delete", list: "list" };
const R2_OPS = {
  get: "get",
  head: "head",
  put: "put",
  delete: "delete",
  list: "list",
  createMultipartUpload: "createMultipartUpload",
  resumeMultipartUpload: "resumeMultipartUpload",
};

/** KV, with the bytes each put stores (key and value), for the storage estimate. */
function countedKv(kv: KVNamespace, scope: Scope): KVNamespace {
  const counted = countedMethods(kv, scope, "kv", KV_OPS);
  return new Proxy(counted, {
    get(t, prop) {
      const v = Reflect.get(t, prop, t);
      if (prop !== "put") return v;
      return (key: string, value: unknown, ...rest: unknown[]) => {
        const bytes = typeof value === "string" ? new TextEncoder().encode(value).byteLength : 0;
        add(scope, "kv.put.bytes", key.length + bytes);
        add(scope, `kv.put ${key.slice(0, key.indexOf(":") + 1)}`);
        return (v as (...a: unknown[]) => unknown)(key, value, ...rest);
      };
    },
  });
}

function countedEnv(env: Env, scope: Scope): Env {
  const wrapped = new Map<string | symbol, unknown>();
  return new Proxy(env, {
    get(t, prop) {
      if (wrapped.has(prop)) return wrapped.get(prop);
      const v = Reflect.get(t, prop, t);
      let w: unknown = v;
      if (prop === "EDITS") w = countedKv(v as KVNamespace, scope);
      else if (prop === "MEDIA") w = countedMethods(v as R2Bucket, scope, "r2", R2_OPS);
      else if (prop === "CLIENT_RATE_LIMIT" || prop === "AUTH_FAILURE_LIMIT")
        w = countedMethods(v as RateLimit, scope, `ratelimit.${prop}`, { limit: "limit" });
      else if (prop === "ASSETS") w = countedMethods(v as Fetcher, scope, "assets", { fetch: "fetch" });
      else if (prop === "HUB" || prop === "EDIT" || prop === "CLIENT")
        w = countedNamespace(v as DurableObjectNamespace, scope, prop);
      wrapped.set(prop, w);
      return w;
    },
  });
}

/**
 * Replaces a method on a native object by a counting one, as an own property (the runtime
 * refuses a Proxy where it expects its own types, e.g. the state given to `DurableObject`).
 */
function patch<T extends object>(
  target: T,
  name: string,
  wrap: (original: (...a: never[]) => unknown) => unknown,
): void {
  const original = Reflect.get(target, name, target) as (...a: unknown[]) => unknown;
  if (typeof original !== "function") return;
  Object.defineProperty(target, name, {
    configurable: true,
    writable: true,
    value: wrap(original.bind(target)),
  });
}

const STORAGE_OPS = {
  get: "kv.get",
  put: "kv.put",
  delete: "kv.delete",
  list: "kv.list",
  setAlarm: "setAlarm",
  deleteAlarm: "deleteAlarm",
  getAlarm: "getAlarm",
  deleteAll: "deleteAll",
};

/** Counts in place on the object's own state: SQL rows, the storage API, alarms, waitUntil. */
function countedCtx(ctx: DurableObjectState, scope: Scope): DurableObjectState {
  const key = `${scope} ${ctx.id.toString()}`;
  const storage = ctx.storage;
  for (const [name, op] of Object.entries(STORAGE_OPS)) {
    patch(storage, name, (original) => (...args: unknown[]) => {
      add(scope, `storage.${op}`);
      return (original as (...a: unknown[]) => unknown)(...args);
    });
  }
  const sql = storage.sql;
  patch(sql, "exec", (original) => (...args: unknown[]) => {
    const cursor = (original as (...a: unknown[]) => SqlStorageCursor<Record<string, SqlStorageValue>>)(
      ...args,
    );
    const query = String(args[0]).replace(/\s+/g, " ").trim().slice(0, 90);
    // The local runtime's own bookkeeping (its object-name table) is not the relay's.
    if (query.includes("__miniflare")) return cursor;
    add(scope, "sql.exec");
    addKey(scope, "-", `sqlx ${query}`, 1);
    const f = als.getStore();
    cursors.push({
      cursor,
      scope,
      trigger: f && f.scope === scope ? f.trigger : "-",
      query,
      read: 0,
      written: 0,
    });
    return cursor;
  });
  patch(
    ctx,
    "waitUntil",
    (original) => (p: Promise<unknown>) => (original as (p: Promise<unknown>) => void)(track(key, p)),
  );
  patch(
    ctx,
    "blockConcurrencyWhile",
    (original) =>
      <T>(fn: () => Promise<T>) =>
        (original as (f: () => Promise<T>) => Promise<T>)(() => track(key, Promise.resolve().then(fn))),
  );
  return ctx;
}

/**
 * Counts each entry point of an object class (RPC methods, fetch, alarm) as it is invoked, runs it
 * under its own trigger, and keeps the object's active time and database size. An object's calls
 * to its own methods (`this.applyUpdates`) stay under the trigger that made them.
 */
function instrument(
  cls: { prototype: object },
  parent: { prototype: object },
  scope: Scope,
  keyOf: (self: object) => string,
  sizeOf: (self: object) => number,
): void {
  for (const name of Object.getOwnPropertyNames(parent.prototype)) {
    if (name === "constructor") continue;
    const desc = Object.getOwnPropertyDescriptor(parent.prototype, name);
    if (!desc || typeof desc.value !== "function") continue;
    const original = desc.value as (...a: unknown[]) => unknown;
    Object.defineProperty(cls.prototype, name, {
      configurable: true,
      writable: true,
      value: function (this: object, ...args: unknown[]) {
        const f = als.getStore();
        if (f && f.self === this) return original.apply(this, args);
        const trigger = name === "alarm" || name === "fetch" ? name : `rpc:${name}`;
        return als.run({ scope, trigger, self: this }, () => {
          add(scope, `invoked.${trigger}`);
          const key = keyOf(this);
          begin(key);
          const done = () => {
            end(key);
            try {
              sizes.set(key, { scope, bytes: sizeOf(this) });
            } catch {
              // Storage gone (deleteAll) or not readable now.
            }
          };
          try {
            const out = original.apply(this, args);
            if (out instanceof Promise) return out.finally(done);
            done();
            return out;
          } catch (e) {
            done();
            throw e;
          }
        });
      },
    });
  }
}

// ---- Subrequests.

const realFetch = globalThis.fetch;
globalThis.fetch = ((input: RequestInfo | URL, init?: RequestInit) => {
  const scope = als.getStore()?.scope ?? "?";
  add(scope, "fetch");
  const url = input instanceof Request ? input.url : String(input);
  add(scope, `fetch ${new URL(url).pathname.split("/").slice(0, 3).join("/")}`);
  return realFetch(input, init);
}) as typeof fetch;

// ---- The classes, under the names wrangler.toml binds.

const dbSize = (self: object) => (self as { ctx: DurableObjectState }).ctx.storage.sql.databaseSize;
const idKey = (scope: Scope) => (self: object) =>
  `${scope} ${(self as { ctx: DurableObjectState }).ctx.id.toString()}`;

export class Hub extends RelayHub {
  constructor(ctx: DurableObjectState, env: Env) {
    super(countedCtx(ctx, "Hub"), countedEnv(env, "Hub"));
  }
}
export class EditObject extends RelayEdit {
  constructor(ctx: DurableObjectState, env: Env) {
    super(countedCtx(ctx, "EditObject"), countedEnv(env, "EditObject"));
  }
}
export class ClientObject extends RelayClient {
  constructor(ctx: DurableObjectState, env: Env) {
    super(countedCtx(ctx, "ClientObject"), countedEnv(env, "ClientObject"));
  }
}
instrument(Hub, RelayHub, "Hub", idKey("Hub"), dbSize);
instrument(EditObject, RelayEdit, "EditObject", idKey("EditObject"), dbSize);
instrument(ClientObject, RelayClient, "ClientObject", idKey("ClientObject"), dbSize);

function snapshot() {
  foldCursors();
  const ops = [...counts].map(([k, n]) => {
    const [scope, trigger, op] = k.split("\t");
    return { scope, trigger, op, n };
  });
  const active: Record<string, { objects: number; activeMs: number; inflight: number }> = {};
  for (const [k, a] of activity) {
    const scope = k.slice(0, k.indexOf(" "));
    const s = active[scope] ?? { objects: 0, activeMs: 0, inflight: 0 };
    active[scope] = s;
    s.objects++;
    s.activeMs += a.activeMs + (a.inflight > 0 ? Date.now() - a.since : 0);
    s.inflight += a.inflight;
  }
  const storage: Record<string, { objects: number; bytes: number }> = {};
  for (const { scope, bytes } of sizes.values()) {
    const s = storage[scope] ?? { objects: 0, bytes: 0 };
    storage[scope] = s;
    s.objects++;
    s.bytes += bytes;
  }
  isolate ??= crypto.randomUUID();
  return { isolate, at: Date.now(), ops, active, storage };
}

function reset(): void {
  foldCursors();
  counts.clear();
  cursors = [];
  for (const a of activity.values()) {
    a.activeMs = 0;
    if (a.inflight > 0) a.since = Date.now();
  }
}

/** The Worker route a request took, with ids replaced, for the trigger label. */
function route(req: Request): string {
  const path = new URL(req.url).pathname
    .replace(/\/edit_[0-9A-Za-z]+/, "/{id}")
    .replace(/\/ep_[0-9A-Za-z]+/, "/{id}")
    .replace(/^\/v1\/files\/.*/, "/v1/files/{key}");
  return `${req.method} ${path}`;
}

export default {
  async fetch(req: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    const path = new URL(req.url).pathname;
    if (path === "/_cost/ops") return Response.json(snapshot());
    if (path === "/_cost/reset" && req.method === "POST") {
      reset();
      return Response.json({ ok: true });
    }
    return als.run({ scope: "Worker", trigger: route(req) }, () => {
      add("Worker", "worker.request");
      return relay.fetch(req, countedEnv(env, "Worker"), ctx);
    });
  },
} satisfies ExportedHandler<Env>;
