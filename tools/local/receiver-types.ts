/** One webhook as the receiver saw it. */
export interface Received {
  path: string;
  headers: Record<string, string>;
  body: string;
  at: number;
  /** performance.now() on arrival, for latency figures measured in the same process. */
  hr: number;
  /** Whether the signature verified against any secret registered for the path (null: none registered). */
  verified: boolean | null;
  answered: number;
}

/** How to answer the next request to a path: a status (0 resets the connection), headers, a delay. */
export interface Reply {
  status: number;
  headers?: Record<string, string>;
  delayMs?: number;
  /** The answer's body (default `ok`). */
  body?: string;
}
