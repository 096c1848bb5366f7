import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { freePorts } from "./tools/local/wrangler-dev.ts";

// Picked here because workerd's bindings are fixed when the config loads; global-setup listens on them.
const [simPort, receiverPort] = await freePorts(2);
process.env.TEST_SIM_PORT ??= String(simPort);
process.env.TEST_RECEIVER_PORT ??= String(receiverPort);

const workerd = (extraBindings: Record<string, string> = {}) =>
  cloudflareTest({
    wrangler: { configPath: "./wrangler.toml" },
    miniflare: {
      bindings: {
        ADMIN_TOKEN: "test-admin-token-0000000000000000000000",
        OXEN_API_KEY: "sim_test_key",
        OXEN_BASE_URL: `http://127.0.0.1:${process.env.TEST_SIM_PORT}/api`,
        ALLOW_PRIVATE_WEBHOOKS: "true",
        WEBHOOK_RETRY_SCHEDULE: "1,1,1",
        WEBHOOK_TIMEOUT_MS: "2000",
        ENCRYPTION_KEY: "dGVzdC1lbmNyeXB0aW9uLWtleS0zMi1ieXRlcy0wMDA=",
        ALLOWED_MODELS: "qwen-image-edit-2511,flux-kontext-dev,some-new-edit-model,no-such-model",
        ...extraBindings,
      },
    },
  });

export default defineConfig({
  test: {
    projects: [
      {
        plugins: [workerd()],
        test: { name: "unit", include: ["src/**/*.test.ts"] },
      },
      {
        plugins: [workerd({ TEST_RECEIVER_URL: `http://127.0.0.1:${process.env.TEST_RECEIVER_PORT}` })],
        test: {
          name: "integration",
          include: ["test/worker/**/*.test.ts"],
          globalSetup: ["./test/support/global-setup.ts"],
          // One shared simulator: files that steer it must not overlap.
          fileParallelism: false,
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: "node",
          environment: "node",
          include: ["tools/**/*.test.ts", "test/e2e/**/*.test.ts", "test/layout/**/*.test.ts"],
          testTimeout: 60_000,
          hookTimeout: 90_000,
        },
      },
    ],
  },
});
