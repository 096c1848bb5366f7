/** Every R2 key of an edit starts with this, so its erasure is one prefix. */
export const editPrefix = (editId: string) => `edits/${editId}/`;
export const inputKey = (editId: string, index: number, ext: string) =>
  `${editPrefix(editId)}in/${index}.${ext}`;
export const outputKey = (editId: string, generationId: string, ext: string) =>
  `${editPrefix(editId)}out/${generationId.replace(/[^\w.-]/g, "_")}.${ext}`;

/** The largest output copied; bigger is Oxen's link, unpersisted. */
export const MAX_OUTPUT_BYTES = 50 * 1024 * 1024;

export { fileUrl } from "./urls";

const EXT: Record<string, string> = {
  "image/png": "png",
  "image/jpeg": "jpg",
  "image/webp": "webp",
  "image/gif": "gif",
};
export const extFor = (contentType: string | null, url: string): string =>
  EXT[(contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? ""] ??
  /\.(png|jpe?g|webp|gif)(?:$|\?)/i.exec(new URL(url).pathname)?.[1]?.toLowerCase().replace("jpeg", "jpg") ??
  "bin";

export type Copied =
  | { ok: true; key: string; content_type: string; bytes: number; sha256: string }
  | { ok: false; error: string };

const hex = (buf: ArrayBuffer) =>
  [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, "0")).join("");

/**
 * Streams Oxen's file into R2, hashing it on the way: the bytes are never held whole in memory
 * when Oxen says how long they are (R2 needs a known length for a stream).
 */
export async function copyToBucket(
  bucket: R2Bucket,
  url: string,
  keyFor: (ext: string) => string,
  timeoutMs: number,
): Promise<Copied> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (e) {
    return { ok: false, error: `fetch failed: ${(e as Error).message}` };
  }
  if (!res.ok || !res.body) {
    await res.body?.cancel();
    return { ok: false, error: `Oxen's file answered HTTP ${res.status}` };
  }
  const contentType = res.headers.get("content-type")?.split(";")[0]?.trim() || "application/octet-stream";
  const length = Number(res.headers.get("content-length") ?? Number.NaN);
  if (length > MAX_OUTPUT_BYTES) {
    await res.body.cancel();
    return { ok: false, error: `the file is larger than ${MAX_OUTPUT_BYTES} bytes` };
  }
  const key = keyFor(extFor(contentType, url));
  try {
    const digest = new crypto.DigestStream("SHA-256");
    const [toBucket, toHash] = res.body.tee();
    const hashed = toHash.pipeTo(digest);
    let body: ReadableStream | ArrayBuffer;
    if (Number.isInteger(length) && length >= 0) {
      const fixed = new FixedLengthStream(length);
      void toBucket.pipeTo(fixed.writable).catch(() => {});
      body = fixed.readable;
    } else {
      // No length given: R2 cannot take the stream as it is; the file is bounded, so buffer it.
      body = await new Response(toBucket).arrayBuffer();
      if (body.byteLength > MAX_OUTPUT_BYTES) return { ok: false, error: "the file is too large" };
    }
    const stored = await bucket.put(key, body, { httpMetadata: { contentType } });
    await hashed;
    return { ok: true, key, content_type: contentType, bytes: stored.size, sha256: hex(await digest.digest) };
  } catch (e) {
    return { ok: false, error: `copy failed: ${(e as Error).message}` };
  }
}

/** Deletes every object under a prefix (an edit's files). */
export async function deletePrefix(bucket: R2Bucket, prefix: string): Promise<void> {
  for (let cursor: string | undefined; ; ) {
    const page = await bucket.list({ prefix, cursor });
    if (page.objects.length > 0) await bucket.delete(page.objects.map((o) => o.key));
    if (!page.truncated) return;
    cursor = page.cursor;
  }
}
