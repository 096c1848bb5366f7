import type { RelayConfig } from "../core/config";
import { sha256Hex } from "../lib/crypto";

/** One hub per Oxen account: the stream is per user, so the key (not the edit) picks the object. */
export async function hubStub(env: Env, config: RelayConfig) {
  const fingerprint = (await sha256Hex(`${config.oxenBaseUrl}\n${config.oxenApiKey}`)).slice(0, 32);
  return env.HUB.getByName(`oxen:${fingerprint}`);
}

export type { HubStatus } from "./hub";
