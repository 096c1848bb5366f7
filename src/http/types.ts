import type { ClientRecord } from "../clients/store";

export interface AppEnv {
  Bindings: Env;
  Variables: { client: ClientRecord; requestId: string };
}
