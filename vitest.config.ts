import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: [
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              bindings: {
                ADMIN_TOKEN: "test-admin-token",
                OXEN_API_KEY: "sim_test_key",
                ALLOW_PRIVATE_WEBHOOKS: "true",
                WEBHOOK_RETRY_SCHEDULE: "1,1,1",
                WEBHOOK_TIMEOUT_MS: "2000",
              },
            },
          }),
        ],
        test: {
          name: "worker",
          include: ["src/**/*.test.ts", "test/worker/**/*.test.ts"],
          exclude: ["src/simulator/**"],
        },
      },
      {
        test: {
          name: "node",
          environment: "node",
          include: ["src/simulator/**/*.test.ts", "test/e2e/**/*.test.ts"],
          testTimeout: 60_000,
          hookTimeout: 90_000,
        },
      },
    ],
  },
});
