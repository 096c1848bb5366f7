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
