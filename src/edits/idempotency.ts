import { sha256Hex } from "../lib/crypto";

const ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/**
 * The edit id an Idempotency-Key stands for: derived, not stored, so every request with the same
 * key reaches the same Durable Object, which lets only one of them enqueue on Oxen.
 */
export async function editIdForKey(clientId: string, key: string): Promise<string> {
  const hex = await sha256Hex(`idempotency\n${clientId}\n${key}`);
  let id = "";
  for (let i = 0; i < 22; i++) id += ALPHABET[Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16) % 62];
  return `edit_${id}`;
}

/** A stable hash of what was asked for (after defaults), to tell a replay from a different request. */
export async function requestFingerprint(request: unknown): Promise<string> {
  return sha256Hex(stableJson(request));
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}
