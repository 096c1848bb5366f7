import { availableParallelism } from "node:os";
import { cloudflareTest } from "@cloudflare/vitest-plugin";
import type { Plugin } from "vite";
import { defineConfig } from "vitest/config";
import { BaseSequencer, type TestSpecification } from "vitest/node";
import { closeLoopbacks, startLoopback } from "./test/support/loopback.ts";

// Bindings are resolved each time vitest starts a workerd, which is once per test file: each file
// gets a simulator and a receiver of its own (test/support/loopback.ts), so files run in parallel.
const workerd = () =>
  cloudflareTest(async () => {
    const { oxenBaseUrl, receiverUrl } = await startLoopback();
    return {
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: {
          ADMIN_TOKEN: "test-admin-token-0000000000000000000000",
          OXEN_API_KEY: "sim_test_key",
          OXEN_BASE_URL: oxenBaseUrl,
          ALLOW_PRIVATE_WEBHOOKS: "true",
          WEBHOOK_RETRY_SCHEDULE: "1,1,1",
          WEBHOOK_TIMEOUT_MS: "2000",
          ENCRYPTION_KEY: "dGVzdC1lbmNyeXB0aW9uLWtleS0zMi1ieXRlcy0wMDA=",
          ALLOWED_MODELS: "qwen-image-edit-2511,flux-kontext-dev,some-new-edit-model,no-such-model",
          TEST_RECEIVER_URL: receiverUrl,
        },
      },
    };
  });

/** Stops the per-file simulators and receivers when the run ends. */
const loopbackTeardown: Plugin = {
  name: "loopback-teardown",
  configureVitest({ vitest }) {
    vitest.onClose(closeLoopbacks);
  },
};

/**
 * The e2e files first, the chaos run first of all: each starts `wrangler dev` and they are the
 * longest files, so started last they would end the run alone. Then vitest's own order (longest
 * first once it has timings; a fresh clone has none, and the chaos file is one of the smallest).
 */
class E2eFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (f: TestSpecification) =>
      f.moduleId.endsWith("/test/e2e/chaos.test.ts") ? 0 : f.moduleId.includes("/test/e2e/") ? 1 : 2;
    return sorted.sort((a, b) => rank(a) - rank(b));
  }
}

export default defineConfig({
  plugins: [loopbackTeardown],
  test: {
    // Most of a test's time is spent waiting (on workerd, wrangler dev, the simulator, timers), not
    // computing: more files than cores at once.
    maxWorkers: Math.max(3, availableParallelism()),
    sequence: { sequencer: E2eFirst },
    projects: [
      {
        plugins: [workerd()],
        // Pure functions with no bindings in use: one workerd serves every file.
        test: { name: "unit", include: ["src/**/*.test.ts"], isolate: false },
      },
      {
        plugins: [workerd()],
        test: {
          name: "integration",
          include: ["test/worker/**/*.test.ts"],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: "node",
          environment: "node",
          include: ["test/e2e/**/*.test.ts", "test/layout/**/*.test.ts"],
          testTimeout: 60_000,
          hookTimeout: 90_000,
        },
      },
      {
        test: {
          name: "tools",
          environment: "node",
          include: ["tools/**/*.test.ts"],
          // The simulator's tests time streams to within tens of milliseconds: they run one file at
          // a time, after the rest (the machine is then theirs), as they did before files ran side by side.
          fileParallelism: false,
        },
      },
    ],
  },
});
