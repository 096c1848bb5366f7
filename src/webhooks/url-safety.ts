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

// ipaddr.js calls ::/8 unicast, but it is IETF-reserved and holds the deprecated IPv4-compatible form
// ::a.b.c.d, which some stacks still route to the embedded IPv4 (::169.254.169.254 is the metadata service).
const RESERVED_V6 = ipaddr.IPv6.parseCIDR("::/8");

const rangeProblem = (range: string) => (range === "unicast" ? null : `${range} addresses are not allowed`);

/** The URL parser has already turned every IPv4 spelling (hex, octal, 127.1, %-encoded, full-width...)
 * into dotted decimal and every IPv6 into its compressed form, so anything else is a name. */
function hostProblem(hostname: string): string | null {
  // Only plain public unicast: every other range ipaddr.js names (private, loopback, link-local, CGNAT,
  // multicast, mapped, NAT64, 6to4, Teredo...) is refused whole rather than decoded, since no real
  // receiver lives behind those translation forms and decoding them is where bypasses hide.
  if (hostname.startsWith("[")) {
    const v6 = ipaddr.IPv6.parse(hostname.slice(1, -1));
    const range = v6.range();
    return rangeProblem(range === "unicast" && v6.match(RESERVED_V6) ? "reserved" : range);
  }
  if (ipaddr.IPv4.isValidFourPartDecimal(hostname)) return rangeProblem(ipaddr.IPv4.parse(hostname).range());
  if (hostname === "") return "has no host";
  // Only the one root dot goes: "internal.." must not slip past the ".internal" suffix.
  const host = hostname.toLowerCase().replace(/\.$/, "");
  const labels = host.split(".");
  if (labels.includes("")) return "host names with empty labels are not allowed";
  if (BLOCKED_NAMES.has(host) || BLOCKED_SUFFIXES.some((s) => host.endsWith(s))) {
    return `${host} is not a public host name`;
  }
  return labels.length === 1 ? "single-label host names are not public" : null;
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
  const problem = hostProblem(url.hostname);
  if (problem) return problem;
  if (url.port !== "" && Number(url.port) < 1024) return "ports below 1024 other than 443 are not allowed";
  return null;
}
