type Fields = Record<string, unknown>;

/** One JSON object per line, so Workers Logs can index the fields. */
export function log(level: "debug" | "info" | "warn" | "error", msg: string, fields: Fields = {}): void {
  const line = JSON.stringify({ level, msg, ...fields });
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
}

export const errorMessage = (e: unknown): string => (e instanceof Error ? e.message : String(e));
