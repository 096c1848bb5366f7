import type { Context, Hono } from "hono";
import { z } from "zod";
import type { Simulator } from "./app.ts";
import { configPatchSchema, formatIssues } from "./config.ts";
import { jsonResponse } from "./errors.ts";
import { faultSpecSchema } from "./faults.ts";
import { streamFaultsPatchSchema } from "./stream-faults.ts";

const finishSchema = z.strictObject({
  status: z.enum(["succeeded", "failed", "cancelled"]),
  error: z.string().optional(),
});

const controlError = (status: number, message: string): Response =>
  jsonResponse(status, { error: { message } });

async function readBody<T>(
  c: Context,
  schema: z.ZodType<T>,
): Promise<{ ok: true; value: T } | { ok: false; response: Response }> {
  let raw: unknown;
  try {
    const text = await c.req.text();
    raw = text.trim() === "" ? {} : JSON.parse(text);
  } catch {
    return { ok: false, response: controlError(400, "Request body must be valid JSON") };
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) return { ok: false, response: controlError(400, formatIssues(parsed.error)) };
  return { ok: true, value: parsed.data };
}

/** Unauthenticated test/bench steering, outside /api; each route maps to a method of the Simulator. */
export function registerControlRoutes(app: Hono, sim: Simulator): void {
  app.post("/_control/reset", (c) => {
    sim.reset();
    return c.json({ ok: true });
  });

  app.get("/_control/config", (c) => c.json(sim.state.config));

  app.post("/_control/config", async (c) => {
    const body = await readBody(c, configPatchSchema);
    if (!body.ok) return body.response;
    return c.json(sim.configure(body.value));
  });

  app.post("/_control/generations/:id/finish", async (c) => {
    const body = await readBody(c, finishSchema);
    if (!body.ok) return body.response;
    const outcome = sim.finish(c.req.param("id"), body.value.status, body.value.error);
    if (!outcome.ok && outcome.reason === "not_found") return controlError(404, "Unknown generation");
    if (!outcome.ok) return controlError(409, `Generation already ${outcome.generation.status}`);
    return c.json(sim.snapshotGeneration(outcome.generation.id, new URL(c.req.url).origin));
  });

  app.post("/_control/files/expire", (c) => {
    sim.expireResultUrls();
    return c.json({ ok: true });
  });

  app.get("/_control/generations/:id/inputs", (c) => {
    const id = c.req.param("id");
    if (!sim.state.generations.has(id)) return controlError(404, "Unknown generation");
    const fetches = sim.inputFetches(id);
    if (!fetches) return controlError(409, "Inputs not fetched (fetchInputs off, or still fetching)");
    return c.json({ generation_id: id, fetches });
  });

  app.post("/_control/streams/close", (c) => c.json({ closed: sim.closeStreams() }));

  app.get("/_control/faults", (c) => c.json({ faults: sim.state.faults }));

  app.post("/_control/faults", async (c) => {
    const body = await readBody(c, faultSpecSchema);
    if (!body.ok) return body.response;
    sim.addFault(body.value);
    return c.json({ faults: sim.state.faults });
  });

  app.delete("/_control/faults", (c) => {
    sim.clearFaults();
    return c.json({ faults: [] });
  });

  app.get("/_control/stream-faults", (c) => c.json(sim.state.streamFaults));

  app.post("/_control/stream-faults", async (c) => {
    const body = await readBody(c, streamFaultsPatchSchema);
    if (!body.ok) return body.response;
    return c.json(sim.setStreamFaults(body.value));
  });

  app.delete("/_control/stream-faults", (c) => {
    sim.clearStreamFaults();
    return c.json(sim.state.streamFaults);
  });

  app.get("/_control/state", (c) => c.json(sim.snapshot(new URL(c.req.url).origin)));
}
