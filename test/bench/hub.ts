import { randomUUID } from "node:crypto";
import { DatabaseSync } from "node:sqlite";
import "./src-resolve.ts";

export interface HubPoint {
  outstanding: number;
  registerUs: number;
  matchUs: number;
  orphanUs: number;
  heapBytesPerGeneration: number;
}

/**
 * The hub's own storage code (HubStore) over SQLite through a small DurableObjectStorage shim: workerd's
 * clock stands still while JavaScript runs, so per-event microseconds cannot be read inside it.
 */
export function doStorage(db: DatabaseSync): unknown {
  const exec = (query: string, ...bindings: unknown[]) => {
    let rows: Record<string, unknown>[] = [];
    let rowsWritten = 0;
    if (bindings.length === 0 && query.includes(";")) db.exec(query);
    else {
      const stmt = db.prepare(query);
      if (/^\s*select/i.test(query)) rows = stmt.all(...(bindings as never[])) as Record<string, unknown>[];
      else rowsWritten = Number(stmt.run(...(bindings as never[])).changes);
    }
    return {
      toArray: () => rows,
      one: () => rows[0],
      rowsWritten,
    };
  };
  return { sql: { exec }, transactionSync: (fn: () => unknown) => fn() };
}

const micros = (fn: () => void, n: number) => {
  const t = performance.now();
  for (let i = 0; i < n; i++) fn();
  return ((performance.now() - t) * 1000) / n;
};

interface HubStoreLike {
  register(editId: string, ids: string[], now: number): unknown;
  editFor(id: string): string | null;
  keepOrphan(update: { generation_id: string; status: string; url: string }, now: number): void;
  counts(): { outstanding: number };
}

export async function hubFootprint(sizes = [1_000, 10_000, 100_000], probes = 2_000): Promise<HubPoint[]> {
  // Worker code, typed against workerd's globals: loaded by path so this Node program's type check
  // does not follow it (it runs here as is: its only imports are types).
  const path: string = "../../src/hub/store.ts";
  const { HubStore } = (await import(path)) as { HubStore: new (storage: unknown) => HubStoreLike };
  const db = new DatabaseSync(":memory:");
  const store = new HubStore(doStorage(db));
  // Counted here: COUNT(*) on every registration would make filling the table quadratic.
  let registered = 0;
  const register = () => {
    const id = randomUUID();
    store.register(`edit_${id.slice(0, 8)}`, [id], Date.now());
    registered++;
  };
  const points: HubPoint[] = [];
  globalThis.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  for (const size of sizes) {
    while (registered < size - probes) register();
    // Registration cost at this size: the registrations that bring the hub up to it.
    const registerUs = micros(register, size - registered);
    // Matching an event to its edit, as the stream does for every completion.
    const sample = db
      .prepare("SELECT generation_id FROM generations ORDER BY random() LIMIT ?")
      .all(probes)
      .map((r) => (r as { generation_id: string }).generation_id);
    let j = 0;
    const matchUs = micros(() => {
      store.editFor(sample[j++ % sample.length] as string);
    }, probes);
    // An event for a generation nobody registered (yet).
    const orphanUs = micros(() => {
      store.keepOrphan({ generation_id: randomUUID(), status: "succeeded", url: "u" }, Date.now());
    }, probes);
    sample.length = 0;
    globalThis.gc?.();
    points.push({
      outstanding: store.counts().outstanding,
      registerUs,
      matchUs,
      orphanUs,
      // SQLite keeps its pages outside the JavaScript heap; this is what JS holds per generation.
      heapBytesPerGeneration: Math.max(0, process.memoryUsage().heapUsed - heapBefore) / size,
    });
  }
  db.close();
  return points;
}
