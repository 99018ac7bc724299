// The HTTP front end: one uWebSockets.js app serving every REST family on one port
// (protocols.md §7, "Ports"). Owns listening and closing; routes live in routes/<protocol>.ts.
import uWS, { type TemplatedApp, type us_listen_socket } from 'uWebSockets.js';
import type { CredentialStore } from '../auth/index.js';
import type { ServerConfig } from '../config.js';
import type { InflightBudget } from '../pool/budget.js';
import type { WorkerPool } from '../pool/pool.js';
import type { ServerMetrics } from '../metrics.js';
import { HttpExchange, readHead } from './request.js';
import { registerAdminRoutes } from './routes/admin.js';
import { registerCaveRoutes } from './routes/cave.js';
import { registerKairosRoutes } from './routes/kairosdb.js';
import { registerOpenTsdbRoutes } from './routes/opentsdb.js';
import { registerOneNetRoutes } from './routes/onenet.js';

/** What routes need from the server: limits, the pool, the in-flight budget and the credentials. */
export interface ServerContext {
  readonly config: ServerConfig;
  readonly pool: WorkerPool;
  readonly budget: InflightBudget;
  /**
   * CAVE tokens, OneNET keys and the admin token, read on the main thread before a body is read
   * (lookups are one SHA-256 and a map probe). Fails closed while the store is damaged.
   */
  readonly credentials: CredentialStore;
  /** The server's own metrics, served at GET /metrics (src/metrics.ts); absent in embedded uses. */
  readonly metrics?: ServerMetrics;
  /** False once a worker reported a storage failure it cannot recover from. */
  healthy(): boolean;
}

export interface HttpServer {
  readonly port: number;
  /** Stops accepting connections; in-flight requests finish. */
  stopListening(): void;
}

export function startHttpServer(ctx: ServerContext, host: string, port: number): Promise<HttpServer> {
  const app: TemplatedApp = uWS.App();
  registerKairosRoutes(app, ctx);
  registerOpenTsdbRoutes(app, ctx);
  registerCaveRoutes(app, ctx);
  registerOneNetRoutes(app, ctx);
  registerAdminRoutes(app, ctx);
  app.any('/*', (res, req) => {
    const x = new HttpExchange(res, readHead(req));
    x.respond({
      status: 404,
      headers: [['Content-Type', 'application/json; charset=UTF-8']],
      body: JSON.stringify({ errors: [`Not Found: ${x.head.method} ${x.head.url}`] }),
    });
  });
  return new Promise((resolve, reject) => {
    app.listen(host, port, (socket: us_listen_socket | false) => {
      if (!socket) {
        reject(new Error(`cannot listen for HTTP on ${host}:${port}`));
        return;
      }
      let listening: us_listen_socket | undefined = socket;
      resolve({
        port: uWS.us_socket_local_port(socket),
        stopListening() {
          if (listening) uWS.us_listen_socket_close(listening);
          listening = undefined;
        },
      });
    });
  });
}
