import { Hono } from "hono";
import type { AppEnv } from "../http/types";

/**
 * The browser pages: the console (`/`, its script and style, from the static assets) and the API
 * reference (`/docs`). They run in the relay's origin, so they are locked down: a strict
 * Content-Security-Policy (no inline script, no third-party origin, not framed), no sniffing,
 * no referrer. Scalar needs inline styles (its components set them); nothing else is relaxed.
 * In local development (`ALLOW_PRIVATE_WEBHOOKS`) images may also come over plain http, since
 * the simulator serves outputs from 127.0.0.1.
 */
function securityHeaders(env: Env, opts: { inlineStyles?: boolean } = {}): Record<string, string> {
  const images = env.ALLOW_PRIVATE_WEBHOOKS === "true" ? "'self' https: http: data:" : "'self' https: data:";
  const csp = [
    "default-src 'self'",
    "connect-src 'self'",
    `img-src ${images}`,
    ...(opts.inlineStyles ? ["style-src 'self' 'unsafe-inline'"] : []),
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'self'",
  ].join("; ");
  return {
    "content-security-policy": csp,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
  };
}

// No inline script: Scalar reads its document URL and options from these attributes.
const DOCS_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8" />
<meta name="viewport" content="width=device-width, initial-scale=1" />
<title>oxen-edit-relay API</title>
</head>
<body>
<script id="api-reference" data-url="/openapi.json" data-configuration='{"withDefaultFonts":false,"telemetry":false,"hideClientButton":true,"agent":{"disabled":true}}'></script>
<script src="/docs-assets/scalar.js"></script>
</body>
</html>
`;

export const pageRoutes = new Hono<AppEnv>()
  .get("/docs", (c) => c.html(DOCS_HTML, 200, securityHeaders(c.env, { inlineStyles: true })))
  .on("GET", ["/", "/index.html", "/console.js", "/console.css"], async (c) => {
    const asset = await c.env.ASSETS.fetch(c.req.raw);
    const res = new Response(asset.body, asset);
    for (const [k, v] of Object.entries(securityHeaders(c.env))) res.headers.set(k, v);
    return res;
  });
