import { mkdirSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
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

// Contract v1.1, "Media and data lifecycle (R2)" / "Browser surfaces": what a browser sees.
describe("media and events_url in the browser", () => {
  let other: Server;
  let otherUrl: string;

  beforeAll(async () => {
    // A page of another origin (another port): the kind of customer page that watches an edit.
    other = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/html" });
      res.end("<!doctype html><title>elsewhere</title><p>another origin</p>");
    });
    await new Promise<void>((resolve) => other.listen(0, "127.0.0.1", resolve));
    otherUrl = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    other?.closeAllConnections();
    await new Promise((r) => other?.close(r));
  });

  const newClient = async (name: string) =>
    (await (
      await fetch(`${relay.url}/v1/clients`, {
        method: "POST",
        headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
        body: JSON.stringify({ name }),
      })
    ).json()) as { api_key: string };

  const newEdit = async (apiKey: string, prefer?: string) =>
    (await (
      await fetch(`${relay.url}/v1/edits`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${apiKey}`,
          "content-type": "application/json",
          ...(prefer ? { prefer } : {}),
        },
        body: JSON.stringify({ prompt: "Add a funny hat", input_image: [PNG] }),
      })
    ).json()) as {
      id: string;
      status: string;
      events_url: string;
      input: { input_image: string[] };
      outputs: { url: string }[];
    };

  it("lets a page of another origin watch an edit through events_url with a plain EventSource", async () => {
    const client = await newClient("console-cors");
    const edit = await newEdit(client.api_key);
    expect(edit.events_url).toMatch(/\/v1\/edits\/edit_\w+\/events\?exp=\d+&sig=/);
    const page = await browser.newPage();
    try {
      await page.goto(`${otherUrl}/`);
      expect(new URL(page.url()).origin).not.toBe(new URL(relay.url).origin);
      const got = await page.evaluate(
        (url) =>
          new Promise<{ type: string; data: string; lastEventId: string }>((resolve, reject) => {
            const g = globalThis as unknown as {
              EventSource: new (
                u: string,
              ) => {
                addEventListener: (t: string, f: (e: { data: string; lastEventId: string }) => void) => void;
                close: () => void;
              };
            };
            const es = new g.EventSource(url);
            const timer = setTimeout(() => {
              es.close();
              reject(new Error("no terminal event within 15 s"));
            }, 15_000);
            for (const type of ["edit.succeeded", "edit.failed", "edit.cancelled"]) {
              es.addEventListener(type, (e) => {
                clearTimeout(timer);
                es.close();
                resolve({ type, data: e.data, lastEventId: e.lastEventId });
              });
            }
          }),
        edit.events_url,
      );
      expect(got.type).toBe("edit.succeeded");
      expect(JSON.parse(got.data).data.id).toBe(edit.id);
      expect(got.lastEventId).toBeTruthy();
      // Nothing but files and events_url answers CORS: the same page cannot call the API.
      const blocked = await page.evaluate(async (url) => {
        try {
          await fetch(url, { headers: { authorization: "Bearer sk_x" } });
          return "readable";
        } catch {
          return "blocked";
        }
      }, `${relay.url}/v1/edits`);
      expect(blocked).toBe("blocked");
    } finally {
      await page.close();
    }
  }, 60_000);

  it("shows the persisted images from the relay's /v1/files/ URLs, and its Delete erases the edit", async () => {
    const client = await newClient("console-media");
    const edit = await newEdit(client.api_key, "wait=10");
    expect(edit.status).toBe("succeeded");
    const page = await browser.newPage();
    try {
      await page.goto(`${relay.url}/`);
      await page.fill("#key", client.api_key);
      await page.click("button[type=submit]");
      const row = page.locator(`tr[data-edit="${edit.id}"]`);
      await row.waitFor({ timeout: 15_000 });
      for (const cls of ["input", "output"]) {
        const img = row.locator(`img.${cls}`);
        expect(await img.getAttribute("src"), cls).toContain(`${relay.url}/v1/files/`);
        await expect
          .poll(() =>
            img.evaluate((i) => {
              const im = i as unknown as { complete: boolean; naturalWidth: number };
              return im.complete && im.naturalWidth > 0;
            }),
          )
          .toBe(true);
      }
      expect(await row.locator("img.output").getAttribute("src")).toBe(edit.outputs[0]?.url);

      page.once("dialog", (d) => void d.accept());
      await row.locator("button.delete").click();
      await row.waitFor({ state: "detached", timeout: 10_000 });
      const gone = await fetch(`${relay.url}/v1/edits/${edit.id}`, {
        headers: { authorization: `Bearer ${client.api_key}` },
      });
      await gone.arrayBuffer();
      expect(gone.status).toBe(404);
      for (const url of [edit.outputs[0]?.url, edit.input.input_image[0]]) {
        const file = await fetch(url as string);
        await file.arrayBuffer();
        expect(file.status, url).toBe(404);
      }
    } finally {
      await page.close();
    }
  }, 60_000);
});
