import { randomBytes } from "node:crypto";
import { startSimulator } from "../simulator/server.ts";
import { Receiver } from "./receiver.ts";
import { startWranglerDev } from "./wrangler-dev.ts";

/**
 * `npm run dev`: the relay under `wrangler dev` on the bundled Oxen simulator, a local inbox
 * that prints every webhook it receives (signature checked), and a ready client.
 */
const RELAY_PORT = Number(process.env.PORT ?? 8787);
const SIM_PORT = Number(process.env.SIM_PORT ?? 8788);
const INBOX_PORT = Number(process.env.INBOX_PORT ?? 8790);
// Fresh each run unless given: admin routes refuse tokens under 32 characters, and a fixed one
// in a README is a guessable one.
const ADMIN_TOKEN = process.env.ADMIN_TOKEN ?? `dev_${randomBytes(24).toString("hex")}`;
const ENCRYPTION_KEY = process.env.ENCRYPTION_KEY ?? randomBytes(32).toString("base64");
const realOxen = Boolean(process.env.OXEN_API_KEY);

const sim = realOxen ? null : await startSimulator({ port: SIM_PORT, apiKeys: ["sim_dev_key"] });
const inbox = await new Receiver().listen(INBOX_PORT);
const relay = await startWranglerDev({
  port: RELAY_PORT,
  persistTo: ".wrangler/state",
  stdio: "inherit",
  vars: {
    OXEN_BASE_URL: sim ? sim.baseUrl : (process.env.OXEN_BASE_URL ?? "https://hub.oxen.ai/api"),
    OXEN_API_KEY: process.env.OXEN_API_KEY ?? "sim_dev_key",
    ADMIN_TOKEN,
    ENCRYPTION_KEY,
    ALLOW_PRIVATE_WEBHOOKS: "true",
  },
});

// Ctrl-C: wrangler-dev.ts stops wrangler's process group; the simulator and inbox live in this process.

const res = await fetch(`${relay.url}/v1/clients`, {
  method: "POST",
  headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
  body: JSON.stringify({ name: "dev" }),
});
const client = (await res.json()) as { id: string; api_key: string; webhook_secret: string };
inbox.secrets("/hook", [client.webhook_secret]);

let shown = 0;
setInterval(() => {
  for (const r of inbox.received.slice(shown)) {
    const body = JSON.parse(r.body) as { type: string; data: { id: string; status: string } };
    console.log(
      `\n[inbox] ${r.path} ${body.type} ${body.data.id} (${r.verified ? "signature verified" : "SIGNATURE INVALID"}, webhook-id ${r.headers["webhook-id"]})`,
    );
  }
  shown = inbox.received.length;
}, 200).unref();

console.log(`
oxen-edit-relay is running.
  relay        ${relay.url}   (OpenAPI: ${relay.url}/openapi.json)
  Oxen         ${sim ? `${sim.baseUrl} (the bundled simulator)` : "the real Oxen API"}
  inbox        ${inbox.url}/hook   (prints the webhooks it receives)
  admin token  ${ADMIN_TOKEN}   (export ADMIN_TOKEN=... before npm run dev to choose it)

A client was created for you:
  export RELAY_URL=${relay.url}
  export RELAY_KEY=${client.api_key}
  export RELAY_WEBHOOK_SECRET=${client.webhook_secret}
`);
