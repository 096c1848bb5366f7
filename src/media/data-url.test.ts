import { expect, it } from "vitest";
import { decodeDataImage } from "./data-url";

const PNG =
  "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP8z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg==";

it("decodes a PNG data URL", () => {
  const r = decodeDataImage(PNG);
  expect(r.ok && [r.type, r.ext, r.bytes.length > 50]).toEqual(["image/png", "png", true]);
});

it.each([
  ["data:image/png;base64,!!!notbase64", /base64/],
  ["data:image/png;base64,", /empty/],
  [`data:image/png;base64,${btoa("hello, not an image")}`, /not a PNG/],
  [PNG.replace("image/png", "image/jpeg"), /holds image\/png/],
  ["data:text/plain;base64,aGVsbG8=", /data:image/],
  ["data:image/svg+xml;utf8,<svg/>", /base64/],
])("refuses %s", (url, problem) => {
  const r = decodeDataImage(url);
  expect(r.ok).toBe(false);
  if (!r.ok) expect(r.problem).toMatch(problem);
});
