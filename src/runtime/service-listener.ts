import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Log } from './log';

/** Answers one request; throwing answers 500 (logged, never the error text: it may quote input). */
export type RouteHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void> | void;

/**
 * The worker/watcher side's one HTTP listener (docs/architecture.md §2): Alertmanager intake,
 * `/healthz`, `/metrics` mount their routes here, so `dockmedic up` opens one port besides the
 * gateway's. Loopback by default: what is served here is not for the network unless asked.
 */
export interface ServiceListener {
  /** e.g. http://127.0.0.1:7802 (the real port when 0 was asked for). */
  readonly url: string;
  /** Mount `handler` for `method path` (exact path, no query). A second mount of the same route is a bug: it throws. */
  route(method: string, path: string, handler: RouteHandler): void;
  close(): Promise<void>;
}

export interface ServiceListenerOptions {
  host: string;
  port: number;
  log: Log;
}

/** A JSON answer; every route answers JSON unless it says otherwise (e.g. /metrics). */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export async function startServiceListener(opts: ServiceListenerOptions): Promise<ServiceListener> {
  const routes = new Map<string, RouteHandler>();
  const key = (method: string, path: string) => `${method.toUpperCase()} ${path}`;
  const server: Server = createServer((req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const method = (req.method ?? 'GET').toUpperCase();
    const handler = routes.get(key(method, path)) ?? (method === 'HEAD' ? routes.get(key('GET', path)) : undefined);
    if (!handler) {
      const known = [...routes.keys()].some((k) => k.endsWith(` ${path}`));
      sendJson(res, known ? 405 : 404, { error: { code: known ? 'method_not_allowed' : 'not_found', message: known ? `${method} is not served on ${path}` : `no such endpoint: ${path}` } });
      return;
    }
    Promise.resolve()
      .then(() => handler(req, res))
      .catch((err: unknown) => {
        opts.log({ msg: 'request failed', path, error: (err as Error).message });
        if (!res.headersSent) sendJson(res, 500, { error: { code: 'internal_error', message: 'internal error' } });
        else res.destroy();
      });
  });
  // Slow clients do not hold a connection forever.
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    route(method, path, handler) {
      const k = key(method, path);
      if (routes.has(k)) throw new Error(`route ${k} is mounted twice`);
      routes.set(k, handler);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
