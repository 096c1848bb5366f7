import { mkdirSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type Browser, chromium, type Page } from "playwright-core";
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

// Contract v1.1, "Endpoints, events and usage (per client)": the console's endpoints panel, each
// attempt's answer, and the usage table, driven through the page. No fixed waits: each step waits
// for what the page shows (refreshing it) or what the receiver got.
describe("endpoints, health, recovery and usage in the console", () => {
  const PATH = "/console-endpoint";
  // The receiver's first answer: a refusal whose body is markup, to be shown as text.
  const REFUSAL = `<b>gone</b> & <img src=x onerror="alert(1)"> <script>alert(2)</script>`;

  /** Asks the console for a refresh, waits until it has shown the relay's answers, then reads. */
  const refreshed = async <T>(page: Page, read: () => Promise<T>): Promise<T> => {
    await page.click("#refresh");
    await page.locator("#console:not([aria-busy])").waitFor();
    return read();
  };

  it("adds, pauses, resumes, recovers and deletes an endpoint, with its health, each attempt's answer and usage", async () => {
    const client = (await (
      await fetch(`${relay.url}/v1/clients`, {
        method: "POST",
        headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
        body: JSON.stringify({ name: "console-endpoints" }),
      })
    ).json()) as { api_key: string };
    receiver.script(PATH, [{ status: 410, body: REFUSAL }]);
    const hooks = () => receiver.on(PATH);

    const page = await browser.newPage();
    const problems: string[] = [];
    page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
    page.on("console", (m) => {
      if (m.type() === "error") problems.push(`console: ${m.text()} ${m.location().url}`);
    });
    try {
      await page.goto(`${relay.url}/`);
      await page.fill("#key", client.api_key);
      await page.click("#signin button[type=submit]");
      await page.locator("#endpoints tr.empty").waitFor({ timeout: 15_000 });

      // Add one in the form: every event but endpoint.disabled, a description that is markup.
      await page.fill("#endpoint-url", `${receiver.url}${PATH}`);
      await page.uncheck('#endpoint-form input[name=events][value="endpoint.disabled"]');
      await page.fill("#endpoint-description", "<i>shop</i>");
      await page.click("#endpoint-form button[type=submit]");
      const row = page.locator("#endpoints tr[data-endpoint]");
      await row.waitFor({ timeout: 10_000 });
      const id = (await row.getAttribute("data-endpoint")) as string;
      expect(id).toMatch(/^ep_/);
      expect(await row.locator(".status").textContent()).toBe("active");
      expect(await row.locator(".url").textContent()).toBe(`${receiver.url}${PATH}`);
      expect(await row.locator(".events").textContent()).toBe("edit.succeeded\nedit.failed\nedit.cancelled");
      expect(await row.locator(".description").textContent()).toBe("<i>shop</i>");
      expect(await row.locator(".description i").count()).toBe(0);
      expect(await row.locator('[data-health="pending"]').textContent()).toBe("0");
      expect(await row.locator('[data-health="last-success"]').textContent()).toBe("never");
      await expect.poll(() => page.inputValue("#endpoint-url")).toBe("");

      // Pause it: an edit that finishes meanwhile is held for it (pending 1), nothing is sent.
      await row.locator("button.toggle").click();
      await expect.poll(() => row.locator(".status").textContent(), { timeout: 10_000 }).toBe("paused");
      expect(await row.locator("button.toggle").textContent()).toBe("Resume");
      const created = await fetch(`${relay.url}/v1/edits`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${client.api_key}`,
          "content-type": "application/json",
          prefer: "wait=10",
        },
        body: JSON.stringify({ prompt: "Add a funny hat", input_image: [PNG] }),
      });
      expect(created.status).toBeLessThan(300);
      const edit = (await created.json()) as { id: string };
      // Its event exists once the edit has finished (Prefer: wait usually covers that already).
      const pending = row.locator('[data-health="pending"]');
      await expect.poll(() => refreshed(page, () => pending.textContent()), { timeout: 20_000 }).toBe("1");
      expect(hooks()).toHaveLength(0);

      // Resume it: the held event goes out at once. The receiver refuses it with a 410, which
      // fails that event only: nothing pending, the endpoint failing since that attempt.
      await row.locator("button.toggle").click();
      await expect.poll(() => row.locator(".status").textContent(), { timeout: 10_000 }).toBe("active");
      await receiver.waitFor(() => hooks().length >= 1, 10_000);
      await expect
        .poll(
          () =>
            refreshed(page, async () => ({
              pending: await pending.textContent(),
              failing: await row.locator('[data-health="failing-since"]').count(),
            })),
          { timeout: 10_000 },
        )
        .toEqual({ pending: "0", failing: 1 });
      expect(await row.locator('[data-health="last-attempt"]').textContent()).toMatch(
        /^\d{4}-\d\d-\d\d .* UTC$/,
      );
      expect(await row.locator('[data-health="last-success"]').textContent()).toBe("never");

      // The edit's attempts show what the receiver answered, as text (no element made of it).
      const editRow = page.locator(`tr[data-edit="${edit.id}"]`);
      await expect
        .poll(() => refreshed(page, () => editRow.locator(".attempts .response").allTextContents()), {
          timeout: 10_000,
        })
        .toContain(REFUSAL);
      expect(await editRow.locator(".attempts").textContent()).toContain(`#1 410 HTTP 410`);
      expect(await editRow.locator(".attempts b, .attempts img, .attempts script").count()).toBe(0);

      // Recover, from the time the prompt proposes (24 h ago): the refused event goes out again.
      const asked: string[] = [];
      const clicked = Date.now();
      page.once("dialog", (d) => {
        asked.push(d.type(), d.defaultValue());
        void d.accept(d.defaultValue());
      });
      await row.locator("button.recover").click();
      await expect
        .poll(() => page.locator("#endpoints-message").textContent(), { timeout: 10_000 })
        .toBe(`${id}: 1 event will be re-sent.`);
      expect(asked[0]).toBe("prompt");
      const proposed = Date.parse(asked[1] as string) + 86_400_000;
      expect(proposed).toBeGreaterThanOrEqual(clicked);
      expect(proposed).toBeLessThanOrEqual(Date.now());
      await receiver.waitFor(() => hooks().length >= 2, 10_000);
      const [first, again] = hooks();
      expect(again?.headers["webhook-id"]).toBe(first?.headers["webhook-id"]);
      expect(again?.answered).toBe(200);
      // Delivered: the health shows the success and no failing streak.
      await expect
        .poll(
          () =>
            refreshed(page, async () => ({
              success: await row.locator('[data-health="last-success"]').textContent(),
              failing: await row.locator('[data-health="failing-since"]').count(),
              pending: await pending.textContent(),
            })),
          { timeout: 10_000 },
        )
        .toEqual({ success: expect.stringMatching(/ UTC$/), failing: 0, pending: "0" });
      expect(await row.locator('[data-health="success-rate"]').textContent()).toBe("50%");

      // Usage: this client's only edit is counted on the model's row of its UTC day.
      const usage = page.locator('#usage tr[data-model="qwen-image-edit-2511"]');
      await usage.first().waitFor({ timeout: 10_000 });
      expect(await usage.count()).toBe(1);
      expect(await usage.getAttribute("data-date")).toMatch(/^\d{4}-\d\d-\d\d$/);
      expect(Number(await usage.locator('[data-col="edits_created"]').textContent())).toBeGreaterThanOrEqual(
        1,
      );
      expect(await page.locator("#usage-summary").textContent()).toMatch(
        /limit 200\b.*limit 20000 per UTC day/,
      );

      await page.screenshot({ path: `${OUT}/console-endpoints.png`, fullPage: true });

      // Delete it, after a confirmation.
      page.once("dialog", (d) => void d.accept());
      await row.locator("button.remove").click();
      await row.waitFor({ state: "detached", timeout: 10_000 });
      const gone = await fetch(`${relay.url}/v1/endpoints/${id}`, {
        headers: { authorization: `Bearer ${client.api_key}` },
      });
      await gone.arrayBuffer();
      expect(gone.status).toBe(404);
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
  }, 60_000);
});
