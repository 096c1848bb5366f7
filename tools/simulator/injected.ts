/** Faults actually injected since the last reset, by kind; stream counts are per stream written to. */
export interface InjectedCounts {
  /** Streams closed by the server after `closeAfterEvents` completion events. */
  stream_closed_after_events: number;
  /** Streams closed by the server `closeAfterMs` after they opened. */
  stream_closed_after_ms: number;
  /** Extra copies of completion events written. */
  events_duplicated: number;
  /** Completion events written split into several writes. */
  events_chunked: number;
  /** Completion events written with line endings other than LF. */
  events_line_endings: number;
  /** Non-blank junk lines written between real events. */
  junk_lines: number;
  /** `/api/events` requests refused by the stream-fault `refuse` setting. */
  stream_refused: number;
  /** `/api/events` streams opened silent (headers, then no bytes) by the `silent` setting. */
  stream_silent: number;
  /** `/api/events` requests held without response headers by the `hangOnOpen` setting. */
  stream_hung: number;
  /** Completion events that fired while no stream was open, or only silent ones (same as `dropped`). */
  events_dropped: number;
  /** `GET /ai/queue/{id}` answered 404 for a finished generation (legacy404AfterFinish). */
  legacy_404: number;
  /** `/_control/faults` rules applied, keyed `route:status` (`route:delay` for delay-only rules). */
  rest: Record<string, number>;
}

export type StreamFaultKind = Exclude<keyof InjectedCounts, "rest">;

export function createInjected(): InjectedCounts {
  return {
    stream_closed_after_events: 0,
    stream_closed_after_ms: 0,
    events_duplicated: 0,
    events_chunked: 0,
    events_line_endings: 0,
    junk_lines: 0,
    stream_refused: 0,
    stream_silent: 0,
    stream_hung: 0,
    events_dropped: 0,
    legacy_404: 0,
    rest: {},
  };
}

/** Zeroes in place, so holders of the object keep seeing live counts. */
export function clearInjected(counts: InjectedCounts): void {
  Object.assign(counts, createInjected());
}

export function countRest(counts: InjectedCounts, key: string): void {
  counts.rest[key] = (counts.rest[key] ?? 0) + 1;
}
