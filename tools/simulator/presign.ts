import { createHmac, randomBytes } from "node:crypto";

export type PresignCheck = "ok" | "expired" | "invalid";

export interface Presigner {
  /** S3-style presigned link to `/files/<fileName>`, valid for the configured TTL from now. */
  url(origin: string, fileName: string, nowMs?: number): string;
  verify(fileName: string, query: URLSearchParams, nowMs?: number): PresignCheck;
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
  const secret = randomBytes(32);
  const sign = (fileName: string, date: string, expires: string): string =>
    createHmac("sha256", secret).update(`${fileName}\n${date}\n${expires}`).digest("hex");

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
      if (query.get("X-Amz-Signature") !== sign(fileName, date, expires)) return "invalid";
      return nowMs > issued + Number(expires) * 1000 ? "expired" : "ok";
    },
  };
}
