/** Limits on what a client may pass through to Oxen, checked without recursion (no stack to blow). */
export const MAX_PARAM_DEPTH = 8;
export const MAX_PARAM_NODES = 1_000;
/** An edit's stored document must fit a Durable Object row (2 MB) twice over: the edit row and
 * its event's payload each hold it, and outputs and errors are added later. */
export const MAX_EDIT_BYTES = 1_000_000;

/** null when `value` is within the bounds, else what is wrong with it. */
export function boundsProblem(value: unknown): string | null {
  const stack: { v: unknown; depth: number }[] = [{ v: value, depth: 0 }];
  let nodes = 0;
  while (stack.length > 0) {
    const { v, depth } = stack.pop() as { v: unknown; depth: number };
    if (++nodes > MAX_PARAM_NODES) return `has more than ${MAX_PARAM_NODES} values`;
    if (v === null || typeof v !== "object") continue;
    if (depth >= MAX_PARAM_DEPTH) return `is nested deeper than ${MAX_PARAM_DEPTH} levels`;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push({ v: child, depth: depth + 1 });
  }
  return null;
}

/** Bytes of a value as stored (UTF-8 JSON). */
export const storedBytes = (value: unknown): number => new TextEncoder().encode(JSON.stringify(value)).length;
