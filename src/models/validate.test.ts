import { describe, expect, it } from "vitest";
import { schemaDefaults, validateParams } from "./validate";

const schema = {
  type: "object",
  properties: {
    prompt: { type: "string", minLength: 1 },
    input_image: { type: "string" },
    aspect_ratio: { type: "string", enum: ["match_input_image", "1:1"], default: "match_input_image" },
    guidance_scale: { type: "number", minimum: 0, maximum: 10, default: 2.5 },
  },
  required: ["prompt"],
};

describe("validateParams", () => {
  it("passes good parameters", () => {
    expect(
      validateParams(schema, { prompt: "p", input_image: "https://x/a.png", guidance_scale: 3 }),
    ).toEqual([]);
  });
  it("names each bad field", () => {
    const issues = validateParams(schema, { prompt: "", aspect_ratio: "5:4", guidance_scale: 99 });
    expect(issues.map((i) => i.path).sort()).toEqual(["aspect_ratio", "guidance_scale", "prompt"]);
  });
  it("reads the defaults Oxen would apply", () => {
    expect(schemaDefaults(schema)).toEqual({ aspect_ratio: "match_input_image", guidance_scale: 2.5 });
  });
});
