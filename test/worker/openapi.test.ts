import { expect, it } from "vitest";
import { call } from "./helpers";

it("serves an OpenAPI 3.1 document generated from the validating schemas", async () => {
  const res = await call("GET", "/openapi.json");
  expect(res.status).toBe(200);
  expect(res.body.openapi).toBe("3.1.0");
  expect(Object.keys(res.body.paths)).toEqual(
    expect.arrayContaining([
      "/v1/edits",
      "/v1/edits/{id}",
      "/v1/clients",
      "/v1/clients/{id}/rotate-secret",
      "/healthz",
    ]),
  );
  const create = res.body.components.schemas.EditCreate;
  expect(create.required).toEqual(expect.arrayContaining(["prompt", "input_image"]));
  expect(create.properties.aspect_ratio.description).toContain("16:9");
  expect(create.additionalProperties).toBeDefined();
  expect(create.properties.num_generations).toMatchObject({ minimum: 1, maximum: 4 });
  expect(res.body.components.schemas.Edit.properties.status.enum).toEqual([
    "queued",
    "processing",
    "succeeded",
    "failed",
    "cancelled",
  ]);
});

it("answers unknown routes with a 404 in the error envelope", async () => {
  const res = await call("GET", "/nope");
  expect(res.status).toBe(404);
  expect(res.body.error.type).toBe("not_found");
});
