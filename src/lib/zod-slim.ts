// zod's `z` namespace re-exports its 40-odd locales (≈ 38 KiB of the bundle gzipped), and
// @hono/zod-openapi extends `z` as a whole, so no bundler can shake them out. wrangler.toml's
// [alias] sends every `import … from "zod"` here: the same exports, less `locales` (errors are
// English, zod's default). Shaped like zod's own index.js.
import * as z from "./zod-exports";

export * from "./zod-exports";
export { z, z as default };
