import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Receiver } from "../../tools/local/receiver.ts";
import { startWranglerDev, type WranglerDev } from "../../tools/local/wrangler-dev.ts";
import { mulberry32 } from "../../tools/simulator/random.ts";
import { type RunningSimulator, startSimulator } from "../../tools/simulator/server.ts";
import { ChaosEndpoints } from "./endpoints.ts";
import { applySimulatorFaults, queueEnqueue429, receiverReply, SilentStreams } from "./faults.ts";
import { type ChaosOptions, DEFAULT_CHAOS, isRacing, isSlow, type Tracked } from "./options.ts";
import { redeliveryOutcome, SlowReceivers } from "./redelivery.ts";
import { RelayClient, sleep } from "./relay.ts";
import { buildReport, type ChaosReport, formatTable, type Oversize, type Race } from "./report.ts";

export type { ChaosOptions, ChaosReport };
export { DEFAULT_CHAOS, formatTable };

/**
 * The chaos run: many edits with several webhooks each, against a simulated Oxen with every
 * fault switched on (silent streams for a while, racing Idempotency-Keys under enqueue 429s
 * among them), receivers that fail about 30% of attempts or answer slowly while a redelivery is
 * asked, oversize inputs, each client's endpoints (failing receivers, one paused and resumed later),
 * Durable Objects aborted mid-run and once the whole runtime stopped and started again on the
 * same persisted storage. Loopback only, bounded in count and time. Ends with what was lost,
 * duplicated or answered wrongly (nothing, or it failed).
 */
const ADMIN = "chaos-admin-token-00000000000000000000000";
const OXEN_KEY = "sim_chaos_key";
const TERMINAL = ["succeeded", "failed", "cancelled"];
const is2xx = (s: number) => s >= 200 && s < 300;

/**
 * A data: URL of a PNG of `size` bytes (signature, then filler). ~3 MB: larger than a Durable
 * Object row, so the relay must keep it in R2 and still make exactly one job. ~9 MB: over the
 * body limit, a 413 before Oxen sees it.
 */
const pngDataUrl = (size: number) => {
  const bytes = Buffer.alloc(size, 0x5a);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(bytes);
  return `data:image/png;base64,${bytes.toString("base64")}`;
};

export async function runChaos(options: Partial<ChaosOptions> = {}): Promise<ChaosReport> {
  const o = { ...DEFAULT_CHAOS, ...options };
  const say = o.log ?? (() => {});
  const random = mulberry32(o.seed);
  const started = Date.now();
  const deadline = started + o.timeLimitMs;
  const persist = mkdtempSync(join(tmpdir(), "relay-chaos-"));
  const counts = {
    enqueueRetries: 0,
    hubAborts: 0,
    editAborts: 0,
    restarts: 0,
    receiverFaults: { 500: 0, timeout: 0, reset: 0 } as Record<string, number>,
  };
  const relay = new RelayClient(deadline, random, say);

  let sim: RunningSimulator | undefined;
  let dev: WranglerDev | undefined;
  let silent: SilentStreams | undefined;
  const receiver = await new Receiver().listen();
  const stopTimers: (() => void)[] = [];
  /** What earlier runtimes printed: the restart replaces the process. */
  const relayOutput: string[] = [];
  try {
    sim = await startSimulator({
      apiKeys: [OXEN_KEY],
      queuedMs: 30,
      processingMs: 200,
      autoComplete: false,
      seed: o.seed,
    });
    const oxen = sim;
    applySimulatorFaults(oxen);
    silent = new SilentStreams(oxen.url);
    const silence = silent;

    const tracked: Tracked[] = [];
    const byIndex = new Map<number, Tracked>();
    const clients: { api_key: string; webhook_secret: string }[] = [];
    const races: Race[] = [];
    const oversize: Oversize[] = [];
    const problems: string[] = [];
    const background: Promise<unknown>[] = [];

    // Slow receivers: the first attempt is held, and a redelivery asked for meanwhile.
    const slow = new SlowReceivers(receiver, o.slowReplyMs, async (index) => {
      let t = byIndex.get(index);
      while (!t && Date.now() < deadline) {
        await sleep(50);
        t = byIndex.get(index);
      }
      if (!t) throw new Error(`chaos: edit ${index} was delivered but never tracked`);
      return relay.retrying(
        "POST",
        `/v1/edits/${t.id}/redeliver`,
        clients[t.client]?.api_key ?? "",
        undefined,
        {},
        {
          // 409 (not terminal yet) and 429 (redelivery rate-limited) are answers, not faults.
          retryOn: (s) => s === 502 || s === 503,
        },
      );
    });
    // The clients' endpoints (v1.1): failing like any receiver, one paused until later in the run.
    const endpoints = new ChaosEndpoints(relay, receiver, clients, o);
    receiver.policy = (path) =>
      slow.reply(path) ??
      endpoints.reply(path) ??
      receiverReply(random, o.receiverFailure, o.webhookTimeoutMs, counts.receiverFaults);

    const vars = {
      OXEN_BASE_URL: oxen.baseUrl,
      OXEN_API_KEY: OXEN_KEY,
      ADMIN_TOKEN: ADMIN,
      ALLOW_PRIVATE_WEBHOOKS: "true",
      WEBHOOK_RETRY_SCHEDULE: "1,1,1,2,2,3,3,5",
      WEBHOOK_TIMEOUT_MS: String(o.webhookTimeoutMs),
      CHAOS_HOOKS: "true",
    };
    dev = await startWranglerDev({ vars, persistTo: persist });
    relay.url = dev.url;
    const port = Number(new URL(dev.url).port);

    for (let i = 0; i < o.clients; i++) {
      const res = await relay.call("POST", "/v1/clients", ADMIN, { name: `chaos-${i}` });
      if (res.status !== 201) throw new Error(`chaos: POST /v1/clients answered ${res.status}`);
      clients.push(res.body);
    }
    await endpoints.setup();

    const resumed = o.pausedEndpoint
      ? endpoints
          .resumeWhenLogged(Math.ceil(o.edits * o.pausedEndpoint.resumeAt), deadline)
          .then(() => say("chaos: paused endpoints resumed"))
          .catch((e) => {
            problems.push(`resume: ${e}`);
          })
      : Promise.resolve();

    let restarting: Promise<void> | null = null;

    const abortLoop = (everyMs: number, pick: () => string | null, counter: "hubAborts" | "editAborts") => {
      let stopped = false;
      const loop = async () => {
        while (!stopped) {
          await sleep(everyMs * (0.5 + random()));
          const target = pick();
          if (stopped || !target || restarting) continue;
          const res = await relay.call("POST", `/_chaos/abort?target=${target}`, ADMIN).catch(() => null);
          if (res?.status === 200) counts[counter]++;
        }
      };
      const done = loop();
      stopTimers.push(() => {
        stopped = true;
        void done;
      });
    };
    abortLoop(o.hubAbortEveryMs, () => "hub", "hubAborts");
    abortLoop(
      o.editAbortEveryMs,
      () => tracked[Math.floor(random() * tracked.length)]?.id ?? null,
      "editAborts",
    );

    const restart = async () => {
      say("chaos: stopping the runtime");
      relay.runtimeDown = true;
      await dev?.stop();
      relayOutput.push(dev?.output() ?? "");
      // Completions that fire now reach nobody: only REST reconciliation can recover them.
      await sleep(2_000);
      dev = await startWranglerDev({ vars, persistTo: persist, port });
      relay.url = dev.url;
      relay.runtimeDown = false;
      counts.restarts++;
      say("chaos: runtime started again on the same storage");
    };

    const image = o.oversize > 0 ? pngDataUrl(2_250_000) : "";
    const tooBig = o.oversize > 0 ? pngDataUrl(7_000_000) : "";
    const oversizeAt = new Set(
      Array.from({ length: o.oversize }, (_, k) => Math.floor(((k + 0.5) * o.edits) / o.oversize)),
    );
    const sendOversize = async (index: number) => {
      const client = clients[index % clients.length] as { api_key: string };
      const prompt = `chaos ${o.seed} oversize ${index}`;
      // Every other one (by its place in the run, not by when earlier ones answered) is over the
      // 8 MiB body limit.
      const over = [...oversizeAt].sort((a, b) => a - b).indexOf(index) % 2 === 1;
      const body = JSON.stringify({ prompt, input_image: [over ? tooBig : image], num_generations: 1 });
      // 429/503 would be the relay briefly refusing anything; the answer that counts comes after.
      const answer = await relay.retrying("POST", "/v1/edits", client.api_key, body, {
        "idempotency-key": `chaos-oversize-${index}`,
      });
      oversize.push({ prompt, answer, overLimit: over });
    };

    const fates: Promise<void>[] = [];
    const submit = async (index: number) => {
      if (o.restartAt !== null && index === Math.floor(o.edits * o.restartAt) && !restarting) {
        restarting = restart().finally(() => {
          restarting = null;
        });
      }
      if (restarting) await restarting;
      if (index === Math.floor(o.edits * 0.55)) oxen.sim.configure({ legacy404AfterFinish: true });
      if (index === Math.floor(o.edits * 0.75)) oxen.sim.configure({ legacy404AfterFinish: false });
      for (const w of o.silentWindows) {
        if (index === Math.floor(o.edits * w.at)) {
          say(`chaos: silent streams for ${w.forMs} ms`);
          background.push(silence.open(w.forMs).catch((e) => problems.push(`silent window: ${e}`)));
        }
      }
      if (oversizeAt.has(index))
        background.push(sendOversize(index).catch((e) => problems.push(`oversize ${index}: ${e}`)));

      const k = index % clients.length;
      const client = clients[k] as { api_key: string; webhook_secret: string };
      const paths = Array.from({ length: o.webhooksPerEdit }, (_, j) => `/c${k}/e${index}/w${j}`);
      for (const p of paths) receiver.secrets(p, [client.webhook_secret]);
      if (isSlow(o, index)) slow.add(index, paths);
      const n = 1 + Math.floor(random() * 3);
      const prompt = `chaos ${o.seed} edit ${index}`;
      const body = {
        prompt,
        input_image: ["https://example.com/in.png"],
        num_generations: n,
        webhooks: paths.map((p) => ({ url: `${receiver.url}${p}` })),
        metadata: { index: String(index) },
      };
      const headers = { "idempotency-key": `chaos-${index}` };
      const racing = isRacing(o, index);
      if (racing) queueEnqueue429(oxen);
      const race: Race = { index, statuses: [], ids: [], retried: 0 };
      const answers = await Promise.all(
        Array.from({ length: racing ? o.racers : 1 }, () =>
          relay.retrying("POST", "/v1/edits", client.api_key, body, headers, {
            onRetry: () => {
              counts.enqueueRetries++;
              if (racing) race.retried++;
            },
          }),
        ),
      );
      if (racing) {
        race.statuses = answers.map((a) => a.status);
        race.ids = answers.map((a) => a.body?.id);
        races.push(race);
      }
      const res = answers.find((a) => is2xx(a.status));
      if (!res) {
        const got = answers.map((a) => `${a.status} ${JSON.stringify(a.body)}`).join("; ");
        problems.push(`edit ${index}: POST /v1/edits answered ${got}`);
        return;
      }
      const fate: Tracked["fate"] =
        random() < 0.1
          ? { kind: "cancel" }
          : {
              kind: "finish",
              outcomes: Array.from({ length: n }, () => (random() < 0.75 ? "succeeded" : "failed")),
            };
      const expected =
        fate.kind === "cancel" ? "cancelled" : fate.outcomes.includes("succeeded") ? "succeeded" : "failed";
      const t: Tracked = {
        index,
        client: k,
        id: res.body.id,
        prompt,
        n,
        generations: res.body.outputs.map((g: { generation_id: string }) => g.generation_id),
        fate,
        expected,
        paths,
      };
      tracked.push(t);
      byIndex.set(index, t);
      fates.push(playFate(t, client.api_key));
    };

    const playFate = async (t: Tracked, token: string) => {
      await sleep(random() * 3_000);
      if (t.fate.kind === "cancel") {
        await relay.retrying(
          "POST",
          `/v1/edits/${t.id}/cancel`,
          token,
          undefined,
          {},
          {
            retryOn: (s) => s >= 500 || s === 429,
          },
        );
        return;
      }
      for (const [i, g] of t.generations.entries()) {
        const status = t.fate.outcomes[i] ?? "succeeded";
        oxen.sim.finish(g, status, status === "failed" ? `chaos failure ${t.index}.${i}` : undefined);
        await sleep(random() * 200);
      }
    };

    let next = 0;
    await Promise.all(
      Array.from({ length: o.concurrency }, async () => {
        while (next < o.edits) {
          if (Date.now() > deadline) throw new Error("chaos: time limit reached while submitting");
          await submit(next++);
        }
      }),
    );
    await Promise.all(fates);
    endpoints.release();
    await Promise.all([...background, resumed]);
    say(`chaos: ${tracked.length} edits submitted in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    for (const stop of stopTimers) stop();
    await silence.off();
    if (restarting) await restarting;

    // Settle: every edit terminal, every subscribed (edit, URL) answered 2xx at least once, and
    // every accepted redelivery seen by each of the edit's URLs after it was asked.
    const pending = new Set(tracked);
    while (pending.size > 0 && Date.now() < deadline) {
      await Promise.all(
        [...pending].slice(0, 64).map(async (t) => {
          const res = await relay.call(
            "GET",
            `/v1/edits/${t.id}`,
            clients[t.client]?.api_key ?? "",
            undefined,
            {
              prefer: "wait=5",
            },
          );
          if (TERMINAL.includes(res.body?.status)) {
            t.final = { status: res.body.status, error: res.body.error, outputs: res.body.outputs };
            pending.delete(t);
          }
        }),
      );
    }
    const at = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
    say(`chaos: every edit terminal at ${at()}`);
    const delivered = (path: string) => receiver.on(path).some((r) => is2xx(r.answered));
    while (Date.now() < deadline && tracked.some((t) => t.paths.some((p) => !delivered(p)))) await sleep(500);
    await slow.settled();
    const redelivered = () =>
      slow.asked.every(
        (r) => !is2xx(r.answer?.status ?? 0) || redeliveryOutcome(r, receiver).missing.length === 0,
      );
    while (Date.now() < deadline && !redelivered()) await sleep(500);
    say(`chaos: webhooks and redeliveries settled at ${at()}`);
    // Every event of each client's log at each endpoint subscribed to its type.
    await endpoints.settle(tracked, deadline);
    say(`chaos: endpoints settled at ${at()}`);

    const state = await fetch(`${oxen.url}/_control/state`).then((r) => r.json());
    return buildReport({
      tracked,
      receiver,
      relay,
      counts,
      oxen: state,
      races,
      oversize,
      redeliveries: slow.asked,
      slowEdits: slow.edits,
      silent: { windows: silence.windows, closed: silence.closed },
      endpoints,
      problems,
      started,
      options: o,
    });
  } finally {
    for (const stop of stopTimers) stop();
    await silent?.off().catch(() => {});
    await dev?.stop();
    if (o.relayLogFile) {
      writeFileSync(
        o.relayLogFile,
        [...relayOutput, dev?.output() ?? ""].join("\n--- runtime restarted ---\n"),
      );
      say(`chaos: relay output written to ${o.relayLogFile}`);
    }
    await Promise.all([sim?.close(), receiver.close()]);
    rmSync(persist, { recursive: true, force: true });
  }
}
