import { mkdirSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { Receiver } from "../../tools/local/receiver.ts";
import { startWranglerDev, type WranglerDev } from "../../tools/local/wrangler-dev.ts";
import { type RunningSimulator, startSimulator } from "../../tools/simulator/server.ts";

// The console page and the API reference, in Debian's headless Chromium driven by playwright-core.
const ADMIN = "console-admin-token-000000000000000000000";
const OUT = "test-output";
// A 2×2 PNG, so the input image loads with no network.
const PNG =
  "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP8z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg==";

let sim: RunningSimulator;
let receiver: Receiver;
let relay: WranglerDev;
let browser: Browser;

beforeAll(async () => {
  mkdirSync(OUT, { recursive: true });
  sim = await startSimulator({ apiKeys: ["sim_console_key"], queuedMs: 10, processingMs: 50 });
  receiver = await new Receiver().listen();
  relay = await startWranglerDev({
    vars: {
      OXEN_BASE_URL: sim.baseUrl,
      OXEN_API_KEY: "sim_console_key",
      ADMIN_TOKEN: ADMIN,
      ALLOW_PRIVATE_WEBHOOKS: "true",
    },
  });
  browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await relay?.stop();
  await Promise.all([sim?.close(), receiver?.close()]);
});

it("shows a client's edits with input and output images and each webhook attempt", async () => {
  const client = (await (
    await fetch(`${relay.url}/v1/clients`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "console" }),
    })
  ).json()) as { api_key: string };
  const created = await fetch(`${relay.url}/v1/edits`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${client.api_key}`,
      "content-type": "application/json",
      prefer: "wait=10",
    },
    body: JSON.stringify({
      prompt: "Add a funny hat",
      input_image: [PNG],
      webhook: `${receiver.url}/console`,
    }),
  });
  const edit = (await created.json()) as { id: string; status: string };
  expect(edit.status).toBe("succeeded");
  await receiver.waitFor((all) => all.some((r) => r.path === "/console"));

  const page = await browser.newPage();
  await page.goto(`${relay.url}/`);
  await page.fill("#key", client.api_key);
  await page.click("button[type=submit]");
  const row = page.locator(`tr[data-edit="${edit.id}"]`);
  await row.waitFor({ timeout: 15_000 });
  await expect.poll(() => row.locator(".attempts").textContent(), { timeout: 10_000 }).toMatch(/#1 200 ok/);
  expect(await row.locator(".status").textContent()).toContain("succeeded");
  // Both images really load: the data: input and the output Oxen (the simulator) serves.
  for (const cls of ["input", "output"]) {
    const img = row.locator(`img.${cls}`);
    await expect
      .poll(() =>
        img.evaluate((i) => {
          const im = i as unknown as { complete: boolean; naturalWidth: number };
          return im.complete && im.naturalWidth > 0;
        }),
      )
      .toBe(true);
  }
  await page.screenshot({ path: `${OUT}/console.png`, fullPage: true });
  await page.close();
}, 60_000);

it("serves the API reference at /docs, rendered from the OpenAPI document", async () => {
  const page = await browser.newPage();
  await page.goto(`${relay.url}/docs`);
  await page.getByText("/v1/edits/{id}/deliveries").first().waitFor({ timeout: 20_000 });
  await page.getByText("oxen-edit-relay").first().waitFor();
  await page.screenshot({ path: `${OUT}/docs.png` });
  await page.close();
}, 60_000);

// Contract v1.2, "Browser surfaces are locked down".
it("sends a strict CSP, nosniff and no-referrer on /, /console.js and /docs", async () => {
  for (const path of ["/", "/console.js", "/docs"]) {
    const res = await fetch(`${relay.url}${path}`);
    await res.arrayBuffer();
    expect(res.status, path).toBe(200);
    const csp = res.headers.get("content-security-policy") ?? "";
    const directives = csp.split(";").map((d) => d.trim());
    expect(directives, path).toContain("default-src 'self'");
    expect(directives, path).toContain("connect-src 'self'");
    expect(directives, path).toContain("frame-ancestors 'none'");
    const img = directives.find((d) => d.startsWith("img-src ")) ?? "";
    expect(img, path).toMatch(/'self'/);
    expect(img, path).toMatch(/\bhttps:/);
    expect(img, path).toMatch(/\bdata:/);
    expect(
      directives.some((d) => /^script-src\b.*'unsafe-(inline|eval)'/.test(d)),
      path,
    ).toBe(false);
    expect(res.headers.get("x-content-type-options"), path).toBe("nosniff");
    expect(res.headers.get("referrer-policy"), path).toBe("no-referrer");
  }
});

it("loads /docs and / with no request to any origin but the relay's", async () => {
  const relayOrigin = new URL(relay.url).origin;
  const page = await browser.newPage();
  const requested: string[] = [];
  page.on("request", (r) => requested.push(r.url()));
  await page.goto(`${relay.url}/docs`, { waitUntil: "load" });
  await page.getByText("/v1/edits/{id}/deliveries").first().waitFor({ timeout: 20_000 });
  // Let lazy requests (fonts, icons, telemetry) go out if the page would make any.
  await page.waitForTimeout(2_000);
  await page.goto(`${relay.url}/`, { waitUntil: "load" });
  await page.locator("#signin").waitFor();
  await page.waitForTimeout(1_000);
  await page.close();
  const network = requested.filter((u) => /^(https?|wss?):/i.test(u));
  expect(network.length).toBeGreaterThan(0);
  expect(network.filter((u) => new URL(u).origin !== relayOrigin)).toEqual([]);
}, 60_000);

it("keeps the console's api key in memory only: nothing in sessionStorage, localStorage or cookies", async () => {
  const client = (await (
    await fetch(`${relay.url}/v1/clients`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "console-storage" }),
    })
  ).json()) as { api_key: string };
  const page = await browser.newPage();
  await page.goto(`${relay.url}/`);
  await page.fill("#key", client.api_key);
  await page.click("button[type=submit]");
  await expect.poll(() => page.locator("#error").textContent(), { timeout: 15_000 }).toBe("No edits yet.");
  const stored = await page.evaluate(() => {
    const g = globalThis as unknown as {
      sessionStorage: { length: number };
      localStorage: { length: number };
      document: { cookie: string };
    };
    return {
      session: g.sessionStorage.length,
      local: g.localStorage.length,
      cookie: g.document.cookie,
    };
  });
  expect(stored).toEqual({ session: 0, local: 0, cookie: "" });
  expect(await page.inputValue("#key")).toBe("");
  expect(await page.content()).not.toContain(client.api_key);
  await page.close();
}, 60_000);

// Finding: served from a local address (127.0.0.1, localhost, *.test…), Scalar turns its "agent" on
// by default and fetches https://proxy.scalar.com/?scalar_url=https://api.scalar.com/vector/registry/…
// Only the CSP (connect-src 'self') stops those requests, so Playwright's request log above never
// sees them. The fix is `"agent":{"disabled":true}` in the page's data-configuration
// (src/routes/pages.ts). On a public hostname Scalar keeps the agent off unless it has a key.
it("makes the docs page not even try a third-party connection (no CSP violations)", async () => {
  const page = await browser.newPage();
  await page.addInitScript(() => {
    const g = globalThis as unknown as {
      __violations: string[];
      document: { addEventListener: (t: string, f: (e: { blockedURI: string }) => void) => void };
    };
    g.__violations = [];
    g.document.addEventListener("securitypolicyviolation", (e) => g.__violations.push(e.blockedURI));
  });
  await page.goto(`${relay.url}/docs`, { waitUntil: "load" });
  await page.getByText("/v1/edits/{id}/deliveries").first().waitFor({ timeout: 20_000 });
  await page.waitForTimeout(2_000);
  const violations = await page.evaluate(
    () => (globalThis as unknown as { __violations: string[] }).__violations,
  );
  await page.close();
  // Scalar also tries `eval` (blocked as well, and harmless to the page); only connections count here.
  expect(violations.filter((u) => /^(https?|wss?):/i.test(u))).toEqual([]);
}, 60_000);
