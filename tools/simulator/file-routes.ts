import type { Hono } from "hono";
import { type FaultSource, faultGate } from "./faults.ts";
import { CONTENT_TYPES, imageBytes, isImageFormat } from "./images.ts";
import type { Presigner } from "./presign.ts";
import type { SimulatorState } from "./state.ts";

const s3Error = (status: number, code: string, message: string): Response =>
  new Response(
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`,
    { status, headers: { "content-type": "application/xml" } },
  );

/** Result files behave like presigned object-store links: no bearer auth, the query string is the credential. */
export function registerFileRoutes(
  app: Hono,
  state: SimulatorState,
  presigner: Presigner,
  faults: FaultSource,
): void {
  app.get("/files/:name", faultGate(faults, "files"), (c) => {
    const name = c.req.param("name");
    const match = /^([\w-]+)\.(\w+)$/.exec(name);
    const [, id = "", ext = ""] = match ?? [];
    const format = state.files.get(id);
    if (!format || !isImageFormat(ext) || format !== ext) {
      return s3Error(404, "NoSuchKey", "The specified key does not exist.");
    }
    const check = presigner.verify(name, new URL(c.req.url).searchParams);
    if (check === "expired") return s3Error(403, "AccessDenied", "Request has expired");
    if (check === "invalid") {
      return s3Error(403, "SignatureDoesNotMatch", "The request signature we calculated does not match");
    }
    const bytes = imageBytes(format);
    return new Response(bytes.slice(), {
      headers: {
        "content-type": CONTENT_TYPES[format],
        "content-length": String(bytes.byteLength),
        "cache-control": "private, max-age=3600",
      },
    });
  });
}
