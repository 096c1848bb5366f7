import type { Context, Hono } from "hono";
import { bearerAuth } from "./auth.ts";
import { insufficientCredits, invalidParams, modelNotFound, notFound, oxenError } from "./errors.ts";
import { type FaultRoute, type FaultSource, faultGate } from "./faults.ts";
import { imageBase64 } from "./images.ts";
import { fetchInputs, inputUrls } from "./inputs.ts";
import { type Engine, isTerminal } from "./lifecycle.ts";
import { findModel, outputFormatOf, publicModel, validateParams } from "./models.ts";
import type { Presigner } from "./presign.ts";
import { parseGenerationRequest } from "./requests.ts";
import { presentGeneration } from "./serialize.ts";
import { type Hub, SSE_HEADERS } from "./sse.ts";
import { type SimulatorState, spendCredits } from "./state.ts";
import { refusal } from "./stream-faults.ts";
import type { Generation, GenerationStatus } from "./types.ts";

export interface ApiDeps {
  state: SimulatorState;
  engine: Engine;
  hub: Hub;
  presigner: Presigner;
  faults: FaultSource;
}

const STATUSES: readonly GenerationStatus[] = ["queued", "processing", "succeeded", "failed", "cancelled"];
const originOf = (c: Context): string => new URL(c.req.url).origin;

export function registerApiRoutes(app: Hono, { state, engine, hub, presigner, faults }: ApiDeps): void {
  const gate = (route: FaultRoute) => faultGate(faults, route);
  const present = (gen: Generation, origin: string) => presentGeneration(gen, presigner, origin);

  // Ahead of auth and REST chaos: a server that never answers checks no keys and consumes no fault rules.
  app.get("/api/events", async (c, next) => {
    if (!state.streamFaults.hangOnOpen) return next();
    state.injected.stream_hung++;
    await hub.hold(c.req.raw.signal);
    // Only read when the simulator is disposed; an aborted client is gone already.
    return oxenError(503, "unknown_error");
  });

  app.use(
    "/api/*",
    bearerAuth(() => state.config.apiKeys),
  );

  app.post("/api/ai/queue", gate("enqueue"), async (c) => {
    const req = await parseGenerationRequest(c.req.raw);
    if (!req.ok) return req.response;
    if (!spendCredits(state, req.count)) return insufficientCredits();
    const generations = engine.enqueue({
      model: req.model.id,
      count: req.count,
      params: req.params,
      namespace: req.namespace,
      origin: originOf(c),
      failure: validateParams(req.model, req.params),
      format: outputFormatOf(req.params),
      inputs: state.config.fetchInputs ? fetchInputs(inputUrls(req.params)) : undefined,
    });
    return c.json({
      generations: generations.map((g) => ({ generation_id: g.id, status: g.status })),
    });
  });

  app.get("/api/ai/queue", gate("list"), (c) => {
    const wanted = c.req.query("status");
    const statuses = wanted ? wanted.split(",").map((s) => s.trim()) : ["queued", "processing"];
    const unknown = statuses.find((s) => !STATUSES.includes(s as GenerationStatus));
    if (unknown !== undefined) return invalidParams(`Unknown status: ${unknown}`);
    const { model, media_type, namespace } = c.req.query();
    const origin = originOf(c);
    const generations = [...state.generations.values()]
      .filter(
        (g) =>
          statuses.includes(g.status) &&
          (model === undefined || g.model === model) &&
          (media_type === undefined || g.mediaType === media_type) &&
          (namespace === undefined || g.namespace === namespace),
      )
      .reverse() // newest first
      .map((g) => present(g, origin));
    return c.json({ count: generations.length, generations });
  });

  app.get("/api/ai/queue/:id", gate("get"), (c) => {
    const gen = state.generations.get(c.req.param("id"));
    if (!gen) return notFound();
    if (state.config.legacy404AfterFinish && isTerminal(gen.status)) {
      state.injected.legacy_404++;
      return notFound();
    }
    return c.json(present(gen, originOf(c)));
  });

  app.delete("/api/ai/queue/:id", gate("cancel"), (c) => {
    const gen = engine.cancel(c.req.param("id"));
    if (!gen) return notFound();
    return c.json({ status: "success", generation_id: gen.id });
  });

  app.get("/api/events", gate("events"), (c) => {
    const refused = refusal(state.streamFaults, state.random.stream);
    if (refused) {
      state.injected.stream_refused++;
      return refused;
    }
    const silent = state.streamFaults.silent;
    if (silent) state.injected.stream_silent++;
    return new Response(hub.subscribe(c.req.raw.signal, { silent }), { headers: SSE_HEADERS });
  });

  app.get("/api/ai/models/:id", gate("models"), (c) => {
    const model = findModel(c.req.param("id"));
    if (!model) return modelNotFound(c.req.param("id"));
    return c.json(publicModel(model, state.config.modelSchemaKey));
  });

  // Synchronous edit: nothing can fail later, so bad model parameters are a 400 here.
  app.post("/api/ai/images/edit", gate("edit"), async (c) => {
    const req = await parseGenerationRequest(c.req.raw);
    if (!req.ok) return req.response;
    const problem = validateParams(req.model, req.params);
    if (problem) return invalidParams(problem);
    const responseFormat = req.params.response_format ?? "url";
    if (responseFormat !== "url" && responseFormat !== "b64_json") {
      return invalidParams('response_format must be "url" or "b64_json"');
    }
    if (!spendCredits(state, req.count)) return insufficientCredits();
    await new Promise((resolve) => setTimeout(resolve, state.config.syncMs ?? state.config.processingMs));
    const format = outputFormatOf(req.params);
    const images = Array.from({ length: req.count }, () => {
      if (responseFormat === "b64_json") return { b64_json: imageBase64(format) };
      const id = crypto.randomUUID();
      state.files.set(id, format);
      return { url: presigner.url(originOf(c), `${id}.${format}`) };
    });
    return c.json({ model: req.model.id, created: Math.floor(Date.now() / 1000), images });
  });
}
