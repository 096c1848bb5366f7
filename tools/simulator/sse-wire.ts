import type { Chunking, LineEndings } from "./stream-faults.ts";

/** How the previous write to a stream ended; needed to keep CR line endings unambiguous. */
export interface WireState {
  endsWithCr: boolean;
}

const TERMINATORS = { lf: "\n", crlf: "\r\n", cr: "\r" } as const;
const MIXED = [TERMINATORS.lf, TERMINATORS.crlf, TERMINATORS.cr] as const;
const MAX_RANDOM_PIECE = 24;

/** Joins lines, each followed by a terminator; the default (lf) gives exactly `line\n` per line. */
export function terminateLines(
  lines: readonly string[],
  mode: LineEndings,
  random: () => number,
  wire: WireState,
): string {
  let out = "";
  for (const line of lines) {
    let end: string =
      mode === "mixed" ? (MIXED[Math.floor(random() * MIXED.length)] ?? "\n") : TERMINATORS[mode];
    // CR then an LF-terminated blank line would read as one CRLF and swallow the blank line.
    if (wire.endsWithCr && line === "" && end === "\n") end = "\r\n";
    out += line + end;
    wire.endsWithCr = end === "\r";
  }
  return out;
}

/** Splits into the separate writes the chunking mode asks for. */
export function splitWrites(bytes: Uint8Array, mode: Chunking, random: () => number): Uint8Array[] {
  if (mode === "none" || bytes.length <= 1) return [bytes];
  const pieces: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; ) {
    const size = mode === "byte" ? 1 : 1 + Math.floor(random() * MAX_RANDOM_PIECE);
    pieces.push(bytes.subarray(at, at + size));
    at += size;
  }
  return pieces;
}

// Valid SSE that a client must ignore or tell apart from media_generation_completed; every block ends
// with a blank line so it can never merge into the real event that follows.
const JUNK: readonly ((n: number) => string[])[] = [
  (n) => [`: sim junk comment ${n}`, ":", ""],
  (n) => ["event: sim_unknown_event", `data: {"sequence":${n},"note":"unknown event name"}`, ""],
  () => ["data:", ""],
  (n) => [`data: <<not json ${n}>> {"unterminated":`, ""],
  (n) => [`sim_unknown_field: ${n}`, "x-sim-unknown-field-without-value", ""],
  (n) => [`data: {"type":"sim_message_without_event_name","sequence":${n}}`, ""],
];
export const JUNK_KINDS = JUNK.length;

/** The junk block number `n`; kinds come in turn. */
export function junkBlock(n: number): string[] {
  return JUNK[n % JUNK.length]?.(n) ?? [""];
}
