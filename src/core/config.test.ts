import { expect, it } from "vitest";
import { ConfigError, DEFAULT_RETRY_SCHEDULE, parseRetrySchedule, readConfig } from "./config";

it("parses the retry schedule, defaulting only when it is unset", () => {
  expect(parseRetrySchedule("1, 2,3")).toEqual([1, 2, 3]);
  expect(parseRetrySchedule(undefined)).toBe(DEFAULT_RETRY_SCHEDULE);
  expect(parseRetrySchedule("")).toBe(DEFAULT_RETRY_SCHEDULE);
});

// Found in review: a typo in a variable silently became the default schedule.
it.each(["1,x", "-1", "5,,10", "1e3"])("refuses the schedule %j loudly", (raw) => {
  expect(() => parseRetrySchedule(raw)).toThrow(ConfigError);
});

it.each([
  ["WEBHOOK_TIMEOUT_MS", "0"],
  ["WEBHOOK_TIMEOUT_MS", "15s"],
  ["MAX_EDIT_SECONDS", "-5"],
])("refuses %s=%j loudly", (name, value) => {
  expect(() => readConfig({ [name]: value } as unknown as Env)).toThrow(name);
});
