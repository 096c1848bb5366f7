/** `data:image/…;base64,` inputs: decoded and checked before anything is stored or sent. */

/** Image types the relay stores, by what their first bytes say (the declared type must agree). */
const SIGNATURES: { type: string; ext: string; test: (b: Uint8Array) => boolean }[] = [
  {
    type: "image/png",
    ext: "png",
    test: (b) => b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47,
  },
  { type: "image/jpeg", ext: "jpg", test: (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff },
  {
    type: "image/webp",
    ext: "webp",
    test: (b) =>
      b[0] === 0x52 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x46 && b[8] === 0x57 && b[9] === 0x45,
  },
  {
    type: "image/gif",
    ext: "gif",
    test: (b) => b[0] === 0x47 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x38,
  },
];

export type DecodedImage =
  | { ok: true; bytes: Uint8Array; type: string; ext: string }
  | { ok: false; problem: string };

export function decodeDataImage(url: string): DecodedImage {
  const m = /^data:(image\/[a-z0-9.+-]+)(;[a-z0-9=-]+)*;base64,([A-Za-z0-9+/=\s]*)$/i.exec(url);
  if (!m) return { ok: false, problem: "must be a base64 data:image/ URL (data:image/png;base64,…)" };
  const declared = (m[1] as string).toLowerCase().replace("image/jpg", "image/jpeg");
  let bytes: Uint8Array;
  try {
    bytes = Uint8Array.from(atob((m[3] as string).replace(/\s+/g, "")), (c) => c.charCodeAt(0));
  } catch {
    return { ok: false, problem: "is not valid base64" };
  }
  if (bytes.length === 0) return { ok: false, problem: "is empty" };
  const sig = SIGNATURES.find((s) => s.test(bytes));
  if (!sig) return { ok: false, problem: "is not a PNG, JPEG, WebP or GIF image" };
  if (sig.type !== declared) return { ok: false, problem: `says ${declared} but holds ${sig.type}` };
  return { ok: true, bytes, type: sig.type, ext: sig.ext };
}
