import { type FanoutResult, landed } from "./fanout.ts";
import { type Bench, createEditAs, newClient, relayTarget } from "./harness.ts";
import { pool } from "./stats.ts";

export interface EndpointFanout {
  endpoints: FanoutResult;
  perEdit: FanoutResult;
}

const generationOf = (body: string): string | undefined => {
  try {
    return (JSON.parse(body) as { data?: { outputs?: { generation_id?: string }[] } }).data?.outputs?.[0]
      ?.generation_id;
  } catch {
    return undefined;
  }
};

/**
 * Fan-out through a client's endpoints beside per-edit webhooks: N edits of one client that has two
 * endpoints (POST /v1/endpoints), then N edits of another client, each edit with two webhooks;
 * each batch finishes in one burst. The contract says endpoints must not be slower.
 */
export async function endpointFanout(
  bench: Bench,
  edits: number,
  tag: string,
  /** Run after creating each batch, before finishing it (e.g. until the relay is quiet again). */
  beforeBurst?: () => Promise<unknown>,
): Promise<EndpointFanout> {
  const t = relayTarget(bench);
  // Room for a whole burst of one client (the default allows 200 running generations).
  const limits = { max_active_generations: 1_000_000, generations_per_day: 100_000_000 };
  const [withEndpoints, withWebhooks] = [
    await newClient(t.url, `bench-endpoints-${tag}`, limits),
    await newClient(t.url, `bench-per-edit-${tag}`, limits),
  ];
  const epPrefix = `/ep-${tag}/`;
  for (const name of ["a", "b"]) {
    const res = await fetch(`${t.url}/v1/endpoints`, {
      method: "POST",
      headers: { authorization: `Bearer ${withEndpoints.api_key}`, "content-type": "application/json" },
      body: JSON.stringify({ url: `${t.receiver.url}${epPrefix}${name}` }),
    });
    if (res.status !== 201)
      throw new Error(`bench: POST /v1/endpoints answered ${res.status}: ${await res.text()}`);
  }
  const run = async (prefix: string, create: (i: number) => Promise<string>, byBody: boolean) => {
    const gens = await pool(edits, 32, create);
    const genOf = new Map(gens.map((g, i) => [`${prefix}${i}`, g]));
    await beforeBurst?.();
    const cpu = t.cpuMs();
    const start = performance.now();
    for (const g of gens) t.sim.sim.finish(g, "succeeded");
    return landed(
      t,
      prefix,
      edits * 2,
      start,
      cpu,
      (path, body) => (byBody ? generationOf(body) : genOf.get(path.slice(0, -2))),
      // Endpoint URLs are shared by every edit: a delivery is its path and its event.
      (r) => `${r.path} ${r.headers["webhook-id"]}`,
    );
  };
  const endpoints = await run(
    epPrefix,
    async (i) => {
      void i;
      const edit = await createEditAs(t.url, withEndpoints.api_key, {});
      return edit.outputs[0]?.generation_id as string;
    },
    true,
  );
  const pePrefix = `/pe-${tag}/`;
  const perEdit = await run(
    pePrefix,
    async (i) => {
      const edit = await createEditAs(t.url, withWebhooks.api_key, {
        webhooks: [
          { url: `${t.receiver.url}${pePrefix}${i}/a` },
          { url: `${t.receiver.url}${pePrefix}${i}/b` },
        ],
      });
      return edit.outputs[0]?.generation_id as string;
    },
    false,
  );
  return { endpoints, perEdit };
}
