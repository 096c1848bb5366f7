import type { RelayConfig } from "../core/config";
import type { GenerationUpdate } from "../core/status";
import { isTerminal } from "../core/status";
import { hubStub } from "../hub/name";
import { errorMessage, log } from "../lib/log";
import type { Snapshot } from "./kv";
import type { EditStore } from "./store";
import { REGISTRATION_CHECK_MS, REGISTRATION_RETRY_MS } from "./timers";

/** The hub's side of registration, as the edit object sees it. */
export interface HubLink {
  register(editId: string, generationIds: string[]): Promise<GenerationUpdate[]>;
  forget(generationIds: string[]): Promise<void>;
}

/**
 * Tells the hub which generations this edit waits for and applies what it already had. The
 * watchdog stays short until the hub has answered (an eviction mid-call retries in seconds, not
 * minutes), and the hub lets go of early completions only after the edit has applied them.
 */
export async function registerWithHub(
  store: EditStore,
  snap: Snapshot,
  hub: () => Promise<HubLink>,
  apply: (updates: GenerationUpdate[]) => Promise<void>,
): Promise<void> {
  store.set("registration_check_at", Date.now() + REGISTRATION_RETRY_MS);
  const ids = snap.edit.outputs.filter((o) => !isTerminal(o.status)).map((o) => o.generation_id);
  if (ids.length === 0) return;
  try {
    const link = await hub();
    const early = await link.register(snap.edit.id, ids);
    store.set("registered_at", Date.now());
    store.set("registration_check_at", Date.now() + REGISTRATION_CHECK_MS);
    if (early.length > 0) {
      await apply(early);
      const settled = early.filter((u) => isTerminal(u.status)).map((u) => u.generation_id);
      if (settled.length > 0) await link.forget(settled);
    }
  } catch (e) {
    // Retried soon by the alarm; until then the generations are only in this object.
    log("warn", "edit could not register with hub", { edit_id: snap.edit.id, error: errorMessage(e) });
  }
}

/** Tells the hub to stop watching generations whose outcome the edit has; a failure is only logged (the hub's own reconciliation settles them). */
export async function forgetAtHub(env: Env, config: RelayConfig, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  try {
    await (await hubStub(env, config)).forget(ids);
  } catch (e) {
    log("warn", "hub forget failed", { error: errorMessage(e) });
  }
}
