/**
 * How long the client's secrets, once read, sign without being read again. A rotation keeps the
 * old secret signing for 24 h, so a minute's lag in picking up the new one breaks no receiver.
 */
const SECRETS_FRESH_MS = 60_000;

/** The signing secrets of an edit's client, read from the client's object and kept a minute. */
export class SecretsCache {
  readonly #clients: Env["CLIENT"];
  #cached: { values: string[]; at: number } | null = null;

  constructor(clients: Env["CLIENT"]) {
    this.#clients = clients;
  }

  /** Reads them ahead (at create, beside the enqueue), so the first delivery waits on nothing. */
  warm(clientId: string): Promise<unknown> {
    return this.read(clientId).catch(() => null);
  }

  async read(clientId: string | undefined): Promise<string[]> {
    if (this.#cached && Date.now() - this.#cached.at < SECRETS_FRESH_MS) return this.#cached.values;
    // The client's object is where its secrets change: a rotation is seen at the next read.
    const values = clientId ? await this.#clients.getByName(clientId).signingSecrets(clientId) : [];
    this.#cached = { values, at: Date.now() };
    return values;
  }
}
