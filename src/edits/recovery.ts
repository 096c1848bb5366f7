import type { OxenClient } from "../oxen/client";
import type { OxenFailure } from "../oxen/errors";
import type { Generation } from "../oxen/schemas";
import type { EditInput } from "./schema";

/** Clocks differ: a job Oxen stamped slightly before our intent is still ours. */
const CLOCK_SKEW_MS = 5_000;

/**
 * After a create whose answer was lost (the object died, Oxen timed out or answered 5xx), the
 * jobs it may have started, found among Oxen's jobs of that model (active, succeeded, failed):
 * same prompt and images, enqueued since the intent. Oxen has no idempotency key, so this is a
 * match, not a proof: two identical requests of the same account in the same seconds are
 * indistinguishable. Oxen does not paginate these lists; this runs only after a lost answer.
 */
export async function findEnqueued(
  oxen: OxenClient,
  model: string,
  input: EditInput,
  since: number,
): Promise<{ ok: true; generations: Generation[] } | { ok: false; failure: OxenFailure }> {
  // Active jobs, and those that already finished: a fast job is done before a retry looks.
  const lists = await Promise.all([
    oxen.listGenerations({ model }),
    oxen.listGenerations({ model, status: "succeeded" }),
    oxen.listGenerations({ model, status: "failed" }),
  ]);
  const failed = lists.find((l) => !l.ok);
  if (failed && !failed.ok) return { ok: false, failure: failed.failure };
  const all = lists.flatMap((l) => (l.ok ? l.value.generations : []));
  const unique = [...new Map(all.map((g) => [g.generation_id, g])).values()];
  const images = JSON.stringify(toList(input.input_image));
  const matches = unique
    .filter((g) => {
      const r = g as Generation & Record<string, unknown>;
      const at = typeof r.enqueued_at === "number" ? r.enqueued_at * 1000 : null;
      return (
        (r.model_name ?? r.model ?? model) === model &&
        r.prompt === input.prompt &&
        (r.input_image === undefined || JSON.stringify(toList(r.input_image)) === images) &&
        (at === null || at >= since - CLOCK_SKEW_MS)
      );
    })
    .sort(
      (a, b) =>
        Number((b as Record<string, unknown>).enqueued_at ?? 0) -
        Number((a as Record<string, unknown>).enqueued_at ?? 0),
    );
  // One create makes num_generations jobs at once: take the newest group of that size. Fewer
  // (some already finished) are still adopted: a short edit beats a second paid job.
  return { ok: true, generations: matches.slice(0, input.num_generations) };
}

/**
 * The images as a retry compares them: a relay file URL without its query, whose `exp` and
 * `sig` differ each time the same data: image is signed (found by the chaos run: a retried
 * create with a data: input did not recognise its first job and enqueued a second).
 */
const toList = (v: unknown): unknown[] =>
  (Array.isArray(v) ? v : [v]).map((u) =>
    typeof u === "string" && u.includes("/v1/files/") ? u.split("?")[0] : u,
  );
