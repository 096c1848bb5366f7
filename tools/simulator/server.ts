import type { Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { serve } from "@hono/node-server";
import { createSimulator, type Simulator } from "./app.ts";
import type { SimulatorOptions } from "./types.ts";

export interface StartOptions extends SimulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
}

export interface RunningSimulator {
  /** e.g. http://127.0.0.1:PORT */
  url: string;
  /** url + "/api", the stand-in for https://hub.oxen.ai/api */
  baseUrl: string;
  port: number;
  sim: Simulator;
  /** Ends open event streams, destroys every socket and stops all timers. Idempotent. */
  close(): Promise<void>;
}

function urlHost(host: string): string {
  if (host === "0.0.0.0" || host === "") return "127.0.0.1";
  if (host === "::") return "[::1]";
  return host.includes(":") ? `[${host}]` : host;
}

export async function startSimulator(options: StartOptions = {}): Promise<RunningSimulator> {
  const { port = 0, host = "127.0.0.1", ...simOptions } = options;
  const sim = createSimulator(simOptions);
  const sockets = new Set<Socket>();

  const server = await new Promise<Server>((resolve, reject) => {
    // overrideGlobalObjects off: the simulator often runs inside a test process that must keep the real Response.
    const s = serve({ fetch: sim.app.fetch, port, hostname: host, overrideGlobalObjects: false }, () =>
      resolve(s as Server),
    ) as Server;
    s.once("error", reject);
    s.on("connection", (socket: Socket) => {
      sockets.add(socket);
      socket.once("close", () => sockets.delete(socket));
    });
  }).catch((error: unknown) => {
    sim.dispose();
    throw error;
  });

  const actualPort = (server.address() as AddressInfo).port;
  const url = `http://${urlHost(host)}:${actualPort}`;
  let closing: Promise<void> | undefined;

  return {
    url,
    baseUrl: `${url}/api`,
    port: actualPort,
    sim,
    close() {
      closing ??= new Promise<void>((resolve) => {
        sim.dispose();
        server.close(() => resolve());
        server.closeAllConnections();
        for (const socket of sockets) socket.destroy();
      });
      return closing;
    },
  };
}
