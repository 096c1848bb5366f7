import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { call, newClient, sim } from "./helpers";

afterEach(async () => {
  await fetch(`${env.OXEN_BASE_URL.replace(/\/api$/, "")}/_control/faults`, { method: "DELETE" });
});

const base = { prompt: "Make it a watercolor", input_image: "https://example.com/a.png" };

describe("other Oxen edit models", () => {
  it("takes another model's own parameters, checked against the schema Oxen publishes", async () => {
    const { api_key } = await newClient();
    const res = await call("POST", "/v1/edits", {
      token: api_key,
      body: { ...base, model: "flux-kontext-dev", guidance_scale: 3 },
      headers: { prefer: "wait=10" },
    });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe("succeeded");
    expect(res.body.model).toBe("flux-kontext-dev");
    // As given, plus the defaults Oxen's schema declares.
    expect(res.body.input).toMatchObject({
      input_image: base.input_image,
      guidance_scale: 3,
      aspect_ratio: "match_input_image",
      output_format: "webp",
    });
  });

  it("lists every parameter the model's schema refuses", async () => {
    const { api_key } = await newClient();
    const res = await call("POST", "/v1/edits", {
      token: api_key,
      body: { ...base, model: "flux-kontext-dev", guidance_scale: 99, aspect_ratio: "5:4" },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.issues.map((i: { path: string }) => i.path).sort()).toEqual([
      "aspect_ratio",
      "guidance_scale",
    ]);
  });

  it("answers 503 for another model when Oxen cannot describe it, but the built-in model still works", async () => {
    const { api_key } = await newClient();
    await sim("/faults", { route: "models", status: 502, probability: 1 });
    const other = await call("POST", "/v1/edits", {
      token: api_key,
      body: { ...base, model: "some-new-edit-model" },
    });
    expect(other.status).toBe(503);
    expect(other.body.error.type).toBe("oxen_unavailable");
    const qwen = await call("POST", "/v1/edits", {
      token: api_key,
      body: { prompt: "p", input_image: ["https://example.com/a.png"] },
    });
    expect(qwen.status).toBe(202);
  });
});
