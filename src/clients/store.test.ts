import { expect, it } from "vitest";
import { type ClientRecord, liveSecrets, rotated, SECRET_OVERLAP_MS } from "./store";

const base: ClientRecord = {
  id: "cli_1",
  name: "n",
  key_hash: "h",
  secrets: [{ secret: "whsec_old", expires_at: null }],
  created_at: "",
};

it("rotation keeps the old secret signing for 24 h, then drops it", () => {
  const now = 1_000_000;
  const next = rotated(base, now);
  expect(next.secrets).toHaveLength(2);
  expect(liveSecrets(next, now)[1]).toBe("whsec_old");
  expect(liveSecrets(next, now)[0]).not.toBe("whsec_old");
  expect(liveSecrets(next, now + SECRET_OVERLAP_MS + 1)).toHaveLength(1);
  expect(rotated(next, now + SECRET_OVERLAP_MS + 1).secrets).toHaveLength(2);
});
