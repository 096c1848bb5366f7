import { randomUUID } from "node:crypto";
import { DatabaseSync } from "node:sqlite";
import { doStorage } from "./hub.ts";
import "./src-resolve.ts";
import { percentile } from "./stats.ts";

export interface ReconcilePoint {
  outstanding: number;
  /** One pass when every outstanding generation is still running (the heartbeat's usual case). */
  steadyMs: number;
  /** One pass after a stream gap: `missed` of them finished unseen, read one by one and handed on. */
  gapMs: number;
  missed: number;
  /** Of a pass: reading every outstanding row from SQLite. */
  selectMs: number;
  /** Of a pass: reading Oxen's list of active generations (JSON and schema), this many bytes. */
  listMs: number;
  listBytes: number;
  /** JavaScript heap a pass holds at its peak (every row, Oxen's parsed list and the index of it), MB. */
  peakHeapMb: number;
}

interface StoreLike {
  register(editId: string, ids: string[], now: number): unknown;
  outstanding(): unknown[];
}
interface OxenLike {
  listGenerations(): Promise<unknown>;
}
type Pass = (
  store: StoreLike,
  oxen: OxenLike,
  forward: (editId: string, u: unknown) => Promise<void>,
) => Promise<void>;

const generation = (id: string, status: string) => ({
  generation_id: id,
  model_name: "qwen-image-edit-2511",
  prompt: "Add a funny hat",
  media_type: "image",
  status,
  result_url: status === "succeeded" ? `https://hub.oxen.ai/api/files/${id}.png?X-Amz-Signature=abc` : null,
  error_message: null,
  enqueued_at: 1_764_000_000,
  started_at: status === "queued" ? null : 1_764_000_001,
  completed_at: status === "succeeded" ? 1_764_000_020 : null,
  aspect_ratio: "16:9",
  input_image: ["https://example.com/a.png"],
});

const timedMs = async (fn: () => unknown) => {
  const t = performance.now();
  await fn();
  return performance.now() - t;
};

/**
 * The hub's reconciliation pass (src/hub/reconcile.ts, with the relay's own OxenClient and
 * HubStore over SQLite), outside workerd as the hub footprint is: Oxen answers instantly from
 * memory (a `fetch` stand-in), and handing an outcome to an edit is a no-op, so what is timed
 * is the hub's own work per pass: every outstanding row read, Oxen's list parsed and compared,
 * and up to 200 generations read one by one.
 */
export async function reconcileCost(sizes: number[], passes = 3): Promise<ReconcilePoint[]> {
  // Worker code, loaded by path so this program's type check does not follow it.
  const paths: string[] = [
    "../../src/hub/store.ts",
    "../../src/hub/reconcile.ts",
    "../../src/oxen/client.ts",
  ];
  const [{ HubStore }, { reconcilePass, MAX_CHECKS_PER_PASS }, { OxenClient }] = (await Promise.all(
    paths.map((p) => import(p)),
  )) as [
    { HubStore: new (storage: unknown) => StoreLike },
    { reconcilePass: Pass; MAX_CHECKS_PER_PASS: number },
    { OxenClient: new (o: { baseUrl: string; apiKey: string }) => OxenLike },
  ];
  const oxen = new OxenClient({ baseUrl: "https://oxen.invalid/api", apiKey: "k" });
  const realFetch = globalThis.fetch;
  const points: ReconcilePoint[] = [];
  try {
    for (const size of sizes) {
      const db = new DatabaseSync(":memory:");
      const store = new HubStore(doStorage(db));
      const ids: string[] = [];
      db.exec("BEGIN");
      // Registered a minute ago: past the grace in which Oxen may not know a new generation yet.
      const registeredAt = Date.now() - 60_000;
      for (let i = 0; i < size; i++) {
        const id = randomUUID();
        ids.push(id);
        store.register(`edit_${i}`, [id], registeredAt);
      }
      db.exec("COMMIT");
      const missed = Math.min(MAX_CHECKS_PER_PASS, size);
      const steadyList = JSON.stringify({
        count: size,
        generations: ids.map((id) => generation(id, "queued")),
      });
      const gapIds = ids.slice(missed);
      const gapList = JSON.stringify({
        count: gapIds.length,
        generations: gapIds.map((id) => generation(id, "queued")),
      });
      let list = steadyList;
      const one = new Map<string, string>();
      globalThis.fetch = (async (input: string | URL | Request) => {
        const url = String(input instanceof Request ? input.url : input);
        const id = url.match(/\/ai\/queue\/([^/?]+)$/)?.[1];
        if (!id) return new Response(list, { headers: { "content-type": "application/json" } });
        let body = one.get(id);
        if (!body) {
          body = JSON.stringify(generation(decodeURIComponent(id), "succeeded"));
          one.set(id, body);
        }
        return new Response(body, { headers: { "content-type": "application/json" } });
      }) as typeof fetch;
      let forwarded = 0;
      const forward = async () => {
        forwarded++;
      };
      const run = async (body: string) => {
        list = body;
        const samples: number[] = [];
        await reconcilePass(store, oxen, forward); // warm-up
        for (let i = 0; i < passes; i++)
          samples.push(await timedMs(() => reconcilePass(store, oxen, forward)));
        return percentile(samples, 50);
      };
      globalThis.gc?.();
      const steadyMs = await run(steadyList);
      forwarded = 0;
      const gapMs = await run(gapList);
      if (forwarded !== missed * (passes + 1))
        throw new Error(`reconcile bench: ${forwarded} handed on, expected ${missed * (passes + 1)}`);
      list = steadyList;
      const selectMs = percentile(
        await Promise.all(Array.from({ length: passes }, () => timedMs(() => store.outstanding()))),
        50,
      );
      // The live set at a pass's peak, held here on purpose and measured after a collection.
      globalThis.gc?.();
      const heapBefore = process.memoryUsage().heapUsed;
      const rows = store.outstanding();
      const parsed = (await oxen.listGenerations()) as {
        ok: boolean;
        value?: { generations: { generation_id: string }[] };
      };
      const index = new Map(parsed.value?.generations.map((g) => [g.generation_id, g]) ?? []);
      globalThis.gc?.();
      const peakHeapMb = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20;
      if (rows.length + index.size === 0) throw new Error("reconcile bench: nothing held");
      const listSamples: number[] = [];
      for (let i = 0; i < passes; i++) listSamples.push(await timedMs(() => oxen.listGenerations()));
      points.push({
        outstanding: size,
        steadyMs,
        gapMs,
        missed,
        selectMs,
        listMs: percentile(listSamples, 50),
        listBytes: Buffer.byteLength(steadyList),
        peakHeapMb,
      });
      db.close();
    }
  } finally {
    globalThis.fetch = realFetch;
  }
  return points;
}
