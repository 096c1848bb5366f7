import { expect, it } from "vitest";
import { preferredWait } from "./prefer";

it("reads wait=N among other preferences and caps it at 60", () => {
  expect(preferredWait("wait=10")).toBe(10);
  expect(preferredWait("respond-async, wait=5")).toBe(5);
  expect(preferredWait('wait="7"')).toBe(7);
  expect(preferredWait("wait=600")).toBe(60);
  expect(preferredWait("wait=-1")).toBeNull();
  expect(preferredWait("wait=abc")).toBeNull();
  expect(preferredWait("return=minimal")).toBeNull();
  expect(preferredWait(undefined)).toBeNull();
});
