import { describe, expect, it } from "vitest";
import { EditCreateBody, editInput, normaliseWebhooks } from "./schema";

const minimal = { prompt: "Add a funny hat", input_image: ["https://example.com/a.png"] };

describe("EditCreateBody", () => {
  it("applies Oxen's defaults", () => {
    const body = EditCreateBody.parse(minimal);
    expect(body.model).toBe("qwen-image-edit-2511");
    expect(editInput(body)).toMatchObject({
      aspect_ratio: "16:9",
      negative_prompt: " ",
      output_format: "png",
      num_generations: 1,
    });
  });
  it("accepts data:image URLs and a single URL string", () => {
    expect(
      editInput(EditCreateBody.parse({ ...minimal, input_image: "data:image/png;base64,AAAA" })).input_image,
    ).toEqual(["data:image/png;base64,AAAA"]);
  });
  it("lists every violation with its path", () => {
    const r = EditCreateBody.safeParse({
      input_image: [],
      aspect_ratio: "5:4",
      num_generations: 9,
      extra: 1,
      metadata: { k: 1 },
    });
    expect(r.success).toBe(false);
    const paths = r.error?.issues.map((i) => i.path.join(".")).sort();
    expect(paths).toEqual(
      expect.arrayContaining(["prompt", "input_image", "aspect_ratio", "num_generations", "metadata.k"]),
    );
    expect(r.error?.issues.some((i) => i.code === "unrecognized_keys")).toBe(true);
  });
  it("takes any well-formed model id (Oxen says whether it exists) and rejects malformed ones", () => {
    expect(
      EditCreateBody.safeParse({ ...minimal, model: "flux-kontext-dev", guidance_scale: 3 }).success,
    ).toBe(true);
    const bad = EditCreateBody.safeParse({ ...minimal, model: "no such model!" });
    expect(bad.error?.issues.map((i) => i.path.join("."))).toEqual(["model"]);
  });
  it("caps webhooks at five in all and metadata at sixteen pairs", () => {
    const hook = { url: "https://example.com/h" };
    expect(EditCreateBody.safeParse({ ...minimal, webhooks: Array(5).fill(hook) }).success).toBe(true);
    expect(
      EditCreateBody.safeParse({ ...minimal, webhook: hook.url, webhooks: Array(5).fill(hook) }).success,
    ).toBe(false);
    const meta = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, "v"]));
    expect(EditCreateBody.safeParse({ ...minimal, metadata: meta }).success).toBe(false);
  });
  it("rejects non-http image URLs", () => {
    expect(EditCreateBody.safeParse({ ...minimal, input_image: ["ftp://x/y.png"] }).success).toBe(false);
    expect(EditCreateBody.safeParse({ ...minimal, input_image: ["javascript:alert(1)"] }).success).toBe(
      false,
    );
  });
});

it("normaliseWebhooks expands the shorthand and default events", () => {
  expect(
    normaliseWebhooks({ webhook: "https://a", webhooks: [{ url: "https://b", events: ["edit.failed"] }] }),
  ).toEqual([
    { url: "https://a", events: ["edit.succeeded", "edit.failed", "edit.cancelled"] },
    { url: "https://b", events: ["edit.failed"] },
  ]);
});
