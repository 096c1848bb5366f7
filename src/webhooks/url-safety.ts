import ipaddr from "ipaddr.js";

/** Pure policy for where webhooks may go: checked at submission and again before every attempt. */

export const MAX_URL_LENGTH = 2048;

/** Names that only mean something inside a network, or that cloud metadata services answer on. */
const BLOCKED_SUFFIXES = [
  ".localhost",
  ".local",
  ".internal",
  ".localdomain",
  ".home.arpa",
  ".lan",
  ".intranet",
];
const BLOCKED_NAMES = new Set(["localhost", "metadata", "instance-data", "metadata.google.internal"]);

/** Only plain public unicast is allowed; every other range ipaddr.js names (private, loopback,
 * link-local and its metadata address, CGNAT, multicast, mapped and translated forms...) is not. */
function addressProblem(host: string): string | null {
  if (!ipaddr.isValid(host)) return null;
  const range = ipaddr.parse(host).range();
  if (range === "unicast") return null;
  return range === "ipv4Mapped"
    ? "IPv4-mapped IPv6 addresses are not allowed"
    : `${range} addresses are not allowed`;
}

/** null when the URL may receive webhooks, else the reason it may not. */
export function checkWebhookUrl(raw: string, opts: { allowPrivate: boolean }): string | null {
  if (raw.length > MAX_URL_LENGTH) return `longer than ${MAX_URL_LENGTH} characters`;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "not a valid URL";
  }
  if (url.username || url.password) return "credentials in the URL are not allowed";
  if (opts.allowPrivate) {
    return url.protocol === "https:" || url.protocol === "http:" ? null : "must use http or https";
  }
  if (url.protocol !== "https:") return "must use https";
  const host = url.hostname.toLowerCase().replace(/\.$/, "");
  if (host === "") return "has no host";
  const bare = host.startsWith("[") ? host.slice(1, -1) : host;
  const problem = addressProblem(bare);
  if (problem) return problem;
  if (!ipaddr.isValid(bare)) {
    if (BLOCKED_NAMES.has(host) || BLOCKED_SUFFIXES.some((s) => host.endsWith(s))) {
      return `${host} is not a public host name`;
    }
    if (!host.includes(".")) return "single-label host names are not public";
  }
  if (url.port !== "" && Number(url.port) < 1024) return "ports below 1024 other than 443 are not allowed";
  return null;
}
