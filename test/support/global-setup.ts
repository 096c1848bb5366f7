import type { TestProject } from "vitest/node";
import { Receiver } from "../../tools/local/receiver.ts";
import { startSimulator } from "../../tools/simulator/server.ts";

/**
 * Starts, on the ports vitest.config.ts picked, the Oxen simulator and a webhook receiver that
 * the workerd integration tests reach over loopback; stops both when the run ends.
 */
export default async function setup(_project: TestProject) {
  const simPort = Number(process.env.TEST_SIM_PORT);
  const receiverPort = Number(process.env.TEST_RECEIVER_PORT);
  const sim = await startSimulator({
    port: simPort,
    apiKeys: ["sim_test_key"],
    queuedMs: 20,
    processingMs: 150,
    keepAliveMs: 1_000,
    noiseEveryMs: 500,
  });
  const receiver = await new Receiver().listen(receiverPort);
  return async () => {
    await Promise.all([sim.close(), receiver.close()]);
  };
}
