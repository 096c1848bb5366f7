import type { StoredClient } from "../clients/store";

export interface AppEnv {
  Bindings: Env;
  Variables: { client: StoredClient; requestId: string };
}
