import type { ImageFormat } from "./types.ts";

// 16x9 solid-colour images, checked to decode (png/jpeg/webp) when they were made.
const BASE64: Record<ImageFormat, string> = {
  png: "iVBORw0KGgoAAAANSUhEUgAAABAAAAAJCAMAAAAM9FwAAAAAA1BMVEXooz3dyR/5AAAACXBIWXMAAAPoAAAD6AG1e1JrAAAADElEQVQI12NgGKQAAACZAAGVGD0UAAAAAElFTkSuQmCC",
  jpg: "/9j/2wBDAA0JCgsKCA0LCgsODg0PEyAVExISEyccHhcgLikxMC4pLSwzOko+MzZGNywtQFdBRkxOUlNSMj5aYVpQYEpRUk//2wBDAQ4ODhMREyYVFSZPNS01T09PT09PT09PT09PT09PT09PT09PT09PT09PT09PT09PT09PT09PT09PT09PT09PT0//wAARCAAJABADASIAAhEBAxEB/8QAFQABAQAAAAAAAAAAAAAAAAAAAAX/xAAUEAEAAAAAAAAAAAAAAAAAAAAA/8QAFQEBAQAAAAAAAAAAAAAAAAAABQb/xAAUEQEAAAAAAAAAAAAAAAAAAAAA/9oADAMBAAIRAxEAPwC2AmzL/9k=",
  webp: "UklGRh4AAABXRUJQVlA4TBEAAAAvDwACAAfQ0aK3p/+BiOh/AAA=",
};

export const CONTENT_TYPES: Record<ImageFormat, string> = {
  png: "image/png",
  jpg: "image/jpeg",
  webp: "image/webp",
};

const decoded = new Map<ImageFormat, Uint8Array>();

export function imageBytes(format: ImageFormat): Uint8Array {
  let bytes = decoded.get(format);
  if (!bytes) {
    bytes = Uint8Array.from(atob(BASE64[format]), (ch) => ch.charCodeAt(0));
    decoded.set(format, bytes);
  }
  return bytes;
}

export function imageBase64(format: ImageFormat): string {
  return BASE64[format];
}

export function isImageFormat(value: string): value is ImageFormat {
  return value === "png" || value === "jpg" || value === "webp";
}
