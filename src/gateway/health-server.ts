import { createServer, type Server } from "node:http";
import type { Readiness } from "../core/health/readiness.js";

export interface RunningHealthServer {
  /** http://host:port (GET /healthz, GET /readyz). */
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * The plain-HTTP health listener (config `health`): GET /healthz answers 200 while the
 * process runs its event loop (liveness); GET /readyz answers 200 when `readiness()` says
 * ready, else 503 (readiness), with the reasons as JSON. Nothing else is served: the
 * listener has no TLS and no client identity, so it tells status only.
 */
export async function startHealthServer(options: { listen: string; readiness: () => Readiness }): Promise<RunningHealthServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "").split("?")[0];
    if (path !== "/healthz" && path !== "/readyz") {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found: GET /healthz or /readyz\n");
      return;
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain" }).end("method not allowed\n");
      return;
    }
    if (path === "/healthz") {
      res.writeHead(200, { "content-type": "text/plain", "cache-control": "no-store" }).end("ok\n");
      return;
    }
    const r = options.readiness();
    res.writeHead(r.ready ? 200 : 503, { "content-type": "application/json", "cache-control": "no-store" }).end(`${JSON.stringify(r)}\n`);
  });
  // A probe is one small request: slow or idle clients are cut short.
  server.requestTimeout = 5_000;
  server.headersTimeout = 5_000;
  server.keepAliveTimeout = 5_000;
  const i = options.listen.lastIndexOf(":");
  const host = options.listen.slice(0, i);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(Number(options.listen.slice(i + 1)), host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://${host}:${port}`,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
