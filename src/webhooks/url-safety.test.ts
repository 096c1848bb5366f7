import { describe, expect, it } from "vitest";
import { checkWebhookUrl } from "./url-safety";

const hostile = [
  "http://example.com/hook",
  "ftp://example.com/hook",
  "javascript:alert(1)",
  "file:///etc/passwd",
  "not a url",
  "https://user:pass@example.com/hook",
  "https://user@example.com/hook",
  "https://localhost/hook",
  "https://LOCALHOST./hook",
  "https://api.localhost/hook",
  "https://printer.local/hook",
  "https://db.internal/hook",
  "https://metadata.google.internal/computeMetadata/v1/",
  "https://metadata/hook",
  "https://intranet/hook",
  // More than the one root dot, or any other empty label.
  "https://metadata.google.internal../computeMetadata/v1/",
  "https://metadata.google.internal.../computeMetadata/v1/",
  "https://metadata.google.internal%2E%2E/computeMetadata/v1/",
  "https://metadata.google.internal\u3002\u3002/computeMetadata/v1/",
  "https://foo.localhost../hook",
  "https://localhost../hook",
  "https://LOCALHOST%2E%2E/hook",
  "https://metadata../hook",
  "https://printer.local../hook",
  "https://intranet../hook",
  "https://a..b.com/hook",
  "https://..example.com/hook",
  "https://.example.com/hook",
  "https://./hook",
  "https://../hook",
  "https://127.0.0.1../hook",
  "https://169.254.169.254../latest/meta-data/",
  "https://127.0.0.1/hook",
  "https://127.1/hook",
  "https://2130706433/hook",
  "https://017700000001/hook",
  "https://0x7f000001/hook",
  "https://0x7f.0.0.1/hook",
  "https://0177.0.0.1/hook",
  "https://%31%32%37.0.0.1/hook",
  "https://0x7f.1/hook",
  "https://127.0.0.1./hook",
  "https://%30x7f.1/hook",
  "https://\uff11\uff12\uff17.0.0.1/hook",
  "https://2852039166/latest/meta-data/",
  "https://0xA9FEA9FE/latest/meta-data/",
  "https://0xa9.0xfe.0xa9fe/latest/meta-data/",
  "https://169.254.169.254./latest/meta-data/",
  "https://0.0.0.0/hook",
  "https://0/hook",
  "https://10.0.0.1/hook",
  "https://172.16.5.4/hook",
  "https://192.168.1.1/hook",
  "https://169.254.169.254/latest/meta-data/",
  "https://100.64.0.1/hook",
  "https://100.100.100.200/hook",
  "https://224.0.0.1/hook",
  "https://255.255.255.255/hook",
  "https://198.18.0.1/hook",
  "https://[::1]/hook",
  "https://[::]/hook",
  "https://[fe80::1]/hook",
  "https://[fc00::1]/hook",
  "https://[fd00:ec2::254]/hook",
  "https://[ff02::1]/hook",
  "https://[::ffff:127.0.0.1]/hook",
  "https://[::ffff:169.254.169.254]/hook",
  "https://[0:0:0:0:0:ffff:10.0.0.1]/hook",
  "https://[64:ff9b::7f00:1]/hook",
  "https://[2002:7f00:1::]/hook",
  // IPv4-compatible ::a.b.c.d: ipaddr.js calls it unicast, some stacks route it to the IPv4.
  "https://[::169.254.169.254]/",
  "https://[::a9fe:a9fe]/latest/meta-data/",
  "https://[0:0:0:0:0:0:127.0.0.1]/hook",
  "https://[::10.0.0.1]/hook",
  "https://[::192.168.1.1]/hook",
  "https://[::8.8.8.8]/hook",
  "https://[::1:0:0:1]/hook",
  // Mapped and translated forms (SIIT, NAT64 well-known and local-use, 6to4, Teredo), whatever they embed.
  "https://[::ffff:a9fe:a9fe]/hook",
  "https://[::ffff:0:127.0.0.1]/hook",
  "https://[64:ff9b::169.254.169.254]/hook",
  "https://[64:ff9b::10.0.0.1]/hook",
  "https://[64:ff9b::8.8.8.8]/hook",
  "https://[64:ff9b:1::a9fe:a9fe]/hook",
  "https://[64:ff9b:1:7f00:1::]/hook",
  "https://[2002:a9fe:a9fe::]/hook",
  "https://[2002:c0a8:101::1]/hook",
  "https://[2002:808:808::1]/hook",
  "https://[2001:0:4136:e378:8000:63bf:80ff:fffe]/hook",
  "https://[2001::a9fe:a9fe]/hook",
  "https://example.com:22/hook",
  "https://example.com:80/hook",
  "https://example.com:25/hook",
  `https://example.com/${"a".repeat(2048)}`,
];

const good = [
  "https://example.com/hook",
  "https://hooks.example.com/a/b?c=d",
  "https://example.com:443/hook",
  "https://example.com:8443/hook",
  "https://api.shop.example.co.uk/webhooks/oxen",
  "https://1.1.1.1/hook",
  "https://8.8.8.8:8443/hook",
  "https://[2606:4700:4700::1111]/hook",
  "https://xn--bcher-kva.example/hook",
  "https://EXAMPLE.COM./hook",
  "https://hooks.example.co.uk:8443/x",
  "https://[2606:4700::1111]/",
  "https://[2001:4860:4860::8888]/hook",
  "https://[2a00:1450:4001:800::200e]/hook",
  "https://a.b.c.example.com./hook",
];

describe("checkWebhookUrl", () => {
  it(`rejects ${hostile.length} hostile URLs`, () => {
    expect(hostile.length).toBeGreaterThanOrEqual(40);
  });
  it.each(hostile)("rejects %s", (url) => {
    expect(checkWebhookUrl(url, { allowPrivate: false })).toEqual(expect.any(String));
  });
  it.each(good)("accepts %s", (url) => {
    expect(checkWebhookUrl(url, { allowPrivate: false })).toBeNull();
  });
  it("lifts the address rules for local work, never the credential rule", () => {
    expect(checkWebhookUrl("http://127.0.0.1:8790/hook", { allowPrivate: true })).toBeNull();
    expect(checkWebhookUrl("http://localhost/hook", { allowPrivate: true })).toBeNull();
    expect(checkWebhookUrl("http://u:p@127.0.0.1/hook", { allowPrivate: true })).toMatch(/credentials/);
    expect(checkWebhookUrl("ftp://127.0.0.1/hook", { allowPrivate: true })).toMatch(/http/);
  });
});
