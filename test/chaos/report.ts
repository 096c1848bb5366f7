import type { Receiver } from "../../tools/local/receiver.ts";
import { type ChaosEndpoints, type EndpointOutcome, endpointFigures, endpointsOk } from "./endpoints.ts";
import type { ChaosOptions, Tracked } from "./options.ts";
import { type Redelivery, redeliveryOutcome } from "./redelivery.ts";
import type { Answer, RelayClient } from "./relay.ts";

const UNKNOWN = /outcome is unknown/;

/** One Idempotency-Key sent by several clients at once. */
export interface Race {
  index: number;
  statuses: number[];
  ids: (string | undefined)[];
  /** Answers 429/502/503 that a racer retried. */
  retried: number;
}

export interface Oversize {
  /** Over the 8 MiB body limit (else a ~3 MB data: image the relay must take). */
  overLimit: boolean;
  prompt: string;
  answer: Answer;
}

export interface RunFacts {
  tracked: Tracked[];
  receiver: Receiver;
  relay: RelayClient;
  counts: {
    enqueueRetries: number;
    hubAborts: number;
    editAborts: number;
    restarts: number;
    receiverFaults: Record<string, number>;
  };
  /** `GET /_control/state` of the simulator, after the run. */
  oxen: any;
  races: Race[];
  oversize: Oversize[];
  redeliveries: Redelivery[];
  slowEdits: number;
  silent: { windows: number; closed: number };
  endpoints: ChaosEndpoints;
  /** Creates refused with anything but 2xx after retries (the edit then not tracked), harness steps that failed. */
  problems: string[];
  started: number;
  options: ChaosOptions;
}

export interface ChaosReport {
  figures: [string, string | number][];
  edits: number;
  terminal: number;
  rightStatus: number;
  unknownOutcome: number;
  wrongStatus: number;
  expectedDeliveries: number;
  delivered: number;
  lost: number;
  duplicates: number;
  duplicatesWithOtherId: number;
  badSignatures: number;
  /** 5xx the relay must never answer (500s among them); see `allowed5xx`. */
  relay5xx: number;
  /** Allowed 503s (with Retry-After, or Oxen's own without) and 502 oxen_error, by label. */
  allowed5xx: Record<string, number>;
  silentStreams: number;
  racingKeys: number;
  racingMismatches: number;
  oxenJobs: number;
  expectedOxenJobs: number;
  duplicatedOxenJobs: number;
  missingOxenJobs: number;
  strayOxenJobs: number;
  oversizeRefused: number;
  oversizeWrong: number;
  slowEdits: number;
  redeliveriesAccepted: number;
  redeliveriesDuringAttempt: number;
  redeliveredPairs: number;
  redeliveriesLost: number;
  redeliveriesWrong: number;
  /** The clients' endpoints against their event logs (see endpoints.ts). */
  endpoints: Omit<EndpointOutcome, "perEndpoint" | "wrong">;
  ok: boolean;
}

const is2xx = (s: number) => s >= 200 && s < 300;

export function buildReport(f: RunFacts): ChaosReport {
  const { tracked, receiver, relay, counts, options: o } = f;
  const wrong: string[] = [];
  const generations: { generation_id: string; prompt: string | null; status: string }[] =
    f.oxen?.generations ?? [];
  const oxenStatus = new Map(generations.map((g) => [g.generation_id, g.status]));

  // Status of every edit.
  let rightStatus = 0;
  let unknownOutcome = 0;
  let wrongStatus = 0;
  for (const t of tracked) {
    if (!t.final) continue;
    // Under Oxen's legacy 404 a generation whose event was lost can only end "outcome unknown".
    const unknown = t.final.outputs.some((g) => UNKNOWN.test(g.error ?? ""));
    if (t.final.status === t.expected) rightStatus++;
    else if (unknown && t.expected !== "cancelled" && t.final.status === "failed") unknownOutcome++;
    else {
      wrongStatus++;
      const oxen = t.generations.map((g) => oxenStatus.get(g)).join(",");
      wrong.push(
        `edit ${t.index} ${t.id}: expected ${t.expected}, got ${t.final.status} ${JSON.stringify(t.final.outputs)}; Oxen has ${oxen}`,
      );
    }
  }

  // Webhooks: every (edit, URL) pair delivered, one webhook-id each, every signature valid.
  let expectedDeliveries = 0;
  let delivered = 0;
  let duplicates = 0;
  let duplicatesWithOtherId = 0;
  let badSignatures = 0;
  for (const t of tracked) {
    const type = `edit.${t.final?.status ?? t.expected}`;
    for (const p of t.paths) {
      expectedDeliveries++;
      const got = receiver.on(p);
      const accepted = got.filter((r) => is2xx(r.answered));
      if (accepted.length > 0) delivered++;
      else wrong.push(`edit ${t.index} ${t.id} ${p}: never delivered (${got.length} attempts)`);
      if (accepted.length > 1) duplicates += accepted.length - 1;
      if (new Set(got.map((r) => r.headers["webhook-id"])).size > 1) {
        duplicatesWithOtherId++;
        wrong.push(
          `edit ${t.index} ${t.id} ${p}: webhook-ids ${[...new Set(got.map((r) => r.headers["webhook-id"]))]}`,
        );
      }
      badSignatures += got.filter((r) => r.verified !== true).length;
      const types = got.map((r) => JSON.parse(r.body).type as string).filter((x) => x !== type);
      if (types.length > 0) {
        wrongStatus++;
        wrong.push(`edit ${t.index} ${t.id} ${p}: webhook types ${types.join(",")} for a ${type} edit`);
      }
    }
  }
  const lost = expectedDeliveries - delivered;

  // Oxen jobs, counted by prompt (unique per edit): one job per generation asked for, no more.
  const jobsByPrompt = new Map<string, number>();
  for (const g of generations) {
    const p = String(g.prompt);
    jobsByPrompt.set(p, (jobsByPrompt.get(p) ?? 0) + 1);
  }
  let duplicatedOxenJobs = 0;
  let missingOxenJobs = 0;
  const prompts = new Set<string>();
  for (const t of tracked) {
    prompts.add(t.prompt);
    const jobs = jobsByPrompt.get(t.prompt) ?? 0;
    if (jobs > t.n) {
      duplicatedOxenJobs += jobs - t.n;
      wrong.push(`edit ${t.index} ${t.id}: ${jobs} Oxen jobs for num_generations ${t.n}`);
    }
    if (jobs < t.n) {
      missingOxenJobs += t.n - jobs;
      wrong.push(`edit ${t.index} ${t.id}: only ${jobs} Oxen jobs for num_generations ${t.n}`);
    }
  }
  // Large inputs the relay accepted are checked below (one job each).
  for (const x of f.oversize) if (!x.overLimit) prompts.add(x.prompt);
  const stray = [...jobsByPrompt].filter(([p]) => !prompts.has(p));
  const strayOxenJobs = stray.reduce((n, [, c]) => n + c, 0);
  for (const [p, c] of stray) wrong.push(`${c} Oxen jobs with prompt "${p}", of no accepted edit`);
  // Each large input the relay accepted is one more job (num_generations 1).
  const expectedOxenJobs =
    tracked.reduce((n, t) => n + t.n, 0) +
    f.oversize.filter((x) => !x.overLimit && x.answer.status >= 200 && x.answer.status < 300).length;

  // Racing Idempotency-Keys: every racer answered 2xx, all with the same edit.
  let racingMismatches = 0;
  for (const r of f.races) {
    const ids = new Set(r.ids);
    if (r.statuses.every(is2xx) && ids.size === 1 && !ids.has(undefined)) continue;
    racingMismatches++;
    wrong.push(`racing key of edit ${r.index}: statuses ${r.statuses.join(",")}, ids ${r.ids.join(",")}`);
  }
  const racingRetries = f.races.reduce((n, r) => n + r.retried, 0);

  // Large inputs: a ~3 MB data: image goes through R2 (accepted, exactly one job); a body over
  // the 8 MiB limit is a 413 with no job.
  const oversizeRefused = f.oversize.filter((x) => x.overLimit && x.answer.status === 413).length;
  const largeAccepted = f.oversize.filter((x) => !x.overLimit && is2xx(x.answer.status)).length;
  let oversizeWrong = 0;
  for (const x of f.oversize) {
    const jobs = jobsByPrompt.get(x.prompt) ?? 0;
    const ok = x.overLimit ? x.answer.status === 413 && jobs === 0 : is2xx(x.answer.status) && jobs === 1;
    if (!ok) {
      oversizeWrong++;
      wrong.push(`large input "${x.prompt}": answered ${x.answer.status}, ${jobs} Oxen jobs`);
    }
  }

  // Redeliveries asked while a slow receiver held the first attempt.
  const byAnswer = new Map<number, number>();
  let redeliveriesAccepted = 0;
  let redeliveriesDuringAttempt = 0;
  let redeliveredPairs = 0;
  let redeliveriesLost = 0;
  let redeliveriesWrong = 0;
  for (const r of f.redeliveries) {
    const status = r.answer?.status ?? 0;
    byAnswer.set(status, (byAnswer.get(status) ?? 0) + 1);
    if (is2xx(status)) {
      redeliveriesAccepted++;
      if ((r.answeredAt ?? Number.POSITIVE_INFINITY) < r.attemptAnswersAt) redeliveriesDuringAttempt++;
      const out = redeliveryOutcome(r, receiver);
      redeliveredPairs += out.expected;
      redeliveriesLost += out.missing.length;
      for (const p of out.missing)
        wrong.push(`edit ${r.index} ${p}: redelivery asked at ${r.sentAt} never arrived`);
      if (!out.urlsNamed) {
        redeliveriesWrong++;
        wrong.push(`edit ${r.index}: redelivery answer ${JSON.stringify(r.answer?.body)} misses a URL`);
      }
    } else if (status !== 409 && status !== 429) {
      redeliveriesWrong++;
      wrong.push(`edit ${r.index}: redelivery answered ${status} ${JSON.stringify(r.answer?.body)}`);
    }
  }

  // The clients' endpoints: every logged event at every endpoint subscribed to it, the pause held.
  const atEndpoints = f.endpoints.outcome(tracked);
  const { perEndpoint: _, wrong: endpointWrong, ...endpoints } = atEndpoints;
  wrong.push(...endpointWrong);

  for (const line of [...f.problems, ...wrong, ...relay.forbidden].slice(0, 30))
    console.error(`chaos: wrong: ${line}`);

  const relay5xx = relay.forbidden.length;
  const allowed = Object.fromEntries(relay.allowed);
  const terminal = tracked.filter((t) => t.final).length;
  const injected = f.oxen?.injected ?? {};
  const silentStreams = Number(injected.stream_silent ?? 0);
  const list = (m: Map<number, number>) =>
    [...m]
      .sort(([a], [b]) => a - b)
      .map(([s, c]) => `${s}: ${c}`)
      .join(", ") || "none";
  const figures: [string, string | number][] = [
    ["edits submitted", tracked.length],
    ["edits terminal", terminal],
    ["  with the expected status", rightStatus],
    ["  failed as outcome unknown (Oxen's legacy 404)", unknownOutcome],
    ["  with a wrong status", wrongStatus],
    ["webhook (edit, URL) pairs expected", expectedDeliveries],
    ["  delivered (a 2xx at least once)", delivered],
    ["  lost", lost],
    ["webhook attempts received (endpoints' included)", receiver.received.length],
    ["  accepted more than once (same webhook-id)", duplicates],
    ["  pairs that saw two different webhook-ids", duplicatesWithOtherId],
    ["  bad signatures", badSignatures],
    ...endpointFigures(atEndpoints, f.endpoints.faults),
    ["relay 5xx not allowed (500, or not a deliberate 502/503)", relay5xx],
    ...Object.entries(allowed).map(([k, v]): [string, number] => [`relay ${k}`, v]),
    ["relay answers by status", list(relay.byStatus)],
    ["enqueues retried (Oxen 429/502/503 passed on)", counts.enqueueRetries],
    [`racing keys (${o.racers} concurrent POSTs, one key and body)`, f.races.length],
    ["  racer answers 429/502/503, retried with the same key", racingRetries],
    ["  keys whose racers got different edits or a refusal", racingMismatches],
    ["Oxen jobs for the run's prompts", generations.length],
    ["  expected (sum of num_generations of accepted edits)", expectedOxenJobs],
    ["  duplicated Oxen jobs (more than num_generations)", duplicatedOxenJobs],
    ["  missing Oxen jobs (fewer than num_generations)", missingOxenJobs],
    ["  jobs of no accepted edit (oversize included)", strayOxenJobs],
    [
      "large inputs: ~3 MB data: URL accepted (one job each) / body over 8 MiB refused 413",
      `${largeAccepted} / ${oversizeRefused} of ${f.oversize.length}`,
    ],
    ["  answered otherwise, or not exactly the jobs expected", oversizeWrong],
    ["slow-receiver edits", f.slowEdits],
    ["  redeliveries asked, by answer", list(byAnswer)],
    ["  redeliveries during an attempt (202 before the slow answer)", redeliveriesDuringAttempt],
    ["  redelivered (edit, URL) pairs expected", redeliveredPairs],
    ["  redelivered pairs never delivered after the request", redeliveriesLost],
    ["  redelivery answers wrong (not 2xx/409/429, or a URL missing)", redeliveriesWrong],
    ["silent stream windows (open streams closed at each)", `${f.silent.windows} (${f.silent.closed})`],
    ["silent streams served", silentStreams],
    ["client calls refused during the restart", relay.connectionErrors],
    ["hub aborts", counts.hubAborts],
    ["edit object aborts", counts.editAborts],
    ["runtime restarts (same storage)", counts.restarts],
    [
      "receiver faults (500 / timeout / reset)",
      `${counts.receiverFaults[500]} / ${counts.receiverFaults.timeout} / ${counts.receiverFaults.reset}`,
    ],
    ["Oxen completions emitted / dropped (no listener)", `${f.oxen?.emitted} / ${f.oxen?.dropped}`],
    ...flatten("Oxen faults injected", injected),
    ["duration (s)", ((Date.now() - f.started) / 1000).toFixed(1)],
  ];
  const ok =
    f.problems.length === 0 &&
    terminal === tracked.length &&
    tracked.length === o.edits &&
    wrongStatus === 0 &&
    lost === 0 &&
    duplicatesWithOtherId === 0 &&
    badSignatures === 0 &&
    relay5xx === 0 &&
    racingMismatches === 0 &&
    duplicatedOxenJobs === 0 &&
    missingOxenJobs === 0 &&
    strayOxenJobs === 0 &&
    generations.length === expectedOxenJobs &&
    oversizeWrong === 0 &&
    oversizeRefused + largeAccepted === o.oversize &&
    redeliveriesLost === 0 &&
    redeliveriesWrong === 0 &&
    endpointsOk(atEndpoints);
  return {
    figures,
    edits: tracked.length,
    terminal,
    rightStatus,
    unknownOutcome,
    wrongStatus,
    expectedDeliveries,
    delivered,
    lost,
    duplicates,
    duplicatesWithOtherId,
    badSignatures,
    relay5xx,
    allowed5xx: allowed,
    silentStreams,
    racingKeys: f.races.length,
    racingMismatches,
    oxenJobs: generations.length,
    expectedOxenJobs,
    duplicatedOxenJobs,
    missingOxenJobs,
    strayOxenJobs,
    oversizeRefused,
    oversizeWrong,
    slowEdits: f.slowEdits,
    redeliveriesAccepted,
    redeliveriesDuringAttempt,
    redeliveredPairs,
    redeliveriesLost,
    redeliveriesWrong,
    endpoints,
    ok,
  };
}

function flatten(prefix: string, value: unknown): [string, string | number][] {
  if (value && typeof value === "object") {
    return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) =>
      flatten(`${prefix}: ${k}`, v),
    );
  }
  return typeof value === "number" ? [[prefix, value]] : [];
}

export function formatTable(rows: [string, string | number][]): string {
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `| ${k.padEnd(width)} | ${String(v)} |`).join("\n");
}
