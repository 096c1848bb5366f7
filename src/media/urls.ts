import { signPath } from "./signing";

/** The relay's signed URL of a stored file: `GET /v1/files/{key}?exp&sig`, no key needed. */
export async function fileUrl(
  origin: string,
  key: string,
  secret: string,
  expiresAt: number,
): Promise<string> {
  // One path segment (the key's slashes encoded); the signature covers the decoded key.
  return `${origin}/v1/files/${encodeURIComponent(key)}?${await signPath(secret, `/v1/files/${key}`, expiresAt)}`;
}

/** An edit's event stream, signed: read-only, for a browser's EventSource, which cannot send a key. */
export async function eventsUrl(
  origin: string,
  editId: string,
  secret: string,
  expiresAt: number,
): Promise<string> {
  const path = `/v1/edits/${editId}/events`;
  return `${origin}${path}?${await signPath(secret, path, expiresAt)}`;
}
