import { expect, it } from "vitest";
import { DEFAULT_RETRY_SCHEDULE, parseRetrySchedule } from "./config";

it("parses the retry schedule and falls back on nonsense", () => {
  expect(parseRetrySchedule("1, 2,3")).toEqual([1, 2, 3]);
  expect(parseRetrySchedule(undefined)).toBe(DEFAULT_RETRY_SCHEDULE);
  expect(parseRetrySchedule("1,x")).toBe(DEFAULT_RETRY_SCHEDULE);
  expect(parseRetrySchedule("-1")).toBe(DEFAULT_RETRY_SCHEDULE);
});
