import { createHmac, randomBytes } from "node:crypto";

export type PresignCheck = "ok" | "expired" | "invalid";

export interface Presigner {
  /** S3-style presigned link to `/files/<fileName>`, valid for the configured TTL from now. */
  url(origin: string, fileName: string, nowMs?: number): string;
  verify(fileName: string, query: URLSearchParams, nowMs?: number): PresignCheck;
  /** Every link issued so far answers "expired" from now on; links issued afterwards are valid. */
  expireAll(): void;
}

const amzDate = (ms: number): string =>
  new Date(ms)
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}/, "");

function parseAmzDate(value: string): number | null {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return null;
  const [, y, mo, d, h, mi, s] = m.map(Number) as number[];
  return Date.UTC(y ?? 0, (mo ?? 1) - 1, d ?? 0, h ?? 0, mi ?? 0, s ?? 0);
}

export function createPresigner(ttlSeconds: () => number): Presigner {
  // Expiring every link rotates the key: a signature by a retired key is a link that has expired.
  let secret = randomBytes(32);
  const retired: Buffer[] = [];
  const signWith = (key: Buffer, fileName: string, date: string, expires: string): string =>
    createHmac("sha256", key).update(`${fileName}\n${date}\n${expires}`).digest("hex");
  const sign = (fileName: string, date: string, expires: string): string =>
    signWith(secret, fileName, date, expires);

  return {
    url(origin, fileName, nowMs = Date.now()) {
      const date = amzDate(nowMs);
      const expires = String(ttlSeconds());
      const query = new URLSearchParams({
        "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
        "X-Amz-Date": date,
        "X-Amz-Expires": expires,
        "X-Amz-SignedHeaders": "host",
        "X-Amz-Signature": sign(fileName, date, expires),
      });
      return `${origin}/files/${fileName}?${query}`;
    },
    verify(fileName, query, nowMs = Date.now()) {
      const date = query.get("X-Amz-Date") ?? "";
      const expires = query.get("X-Amz-Expires") ?? "";
      const issued = parseAmzDate(date);
      if (issued === null || !/^\d+$/.test(expires)) return "invalid";
      const signature = query.get("X-Amz-Signature");
      if (signature !== sign(fileName, date, expires)) {
        const old = retired.some((key) => signature === signWith(key, fileName, date, expires));
        return old ? "expired" : "invalid";
      }
      return nowMs > issued + Number(expires) * 1000 ? "expired" : "ok";
    },
    expireAll() {
      retired.push(secret);
      secret = randomBytes(32);
    },
  };
}
