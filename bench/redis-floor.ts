/**
 * The control for the gateway overhead benchmark: what one Redis round trip inside an HTTP
 * request costs on this machine when the server does nothing else. A bare node:http server
 * answers each request after a single Redis PING; the same load client (same worker thread,
 * same signed requests, same count) calls it, and the same server-side clock is read. The
 * gateway cannot be faster than this, because its replay check and rate limit are one Redis
 * round trip; what it adds on top is its own cost.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Redis from 'ioredis';
import type { LoadClientInput } from './load-client';
import { runLoadClient } from './run-load-client';

/** Server-side time of each call, in call order (calls are sequential). */
export async function measureRedisFloor(opts: { redisUrl: string; calls: number; client: Omit<LoadClientInput, 'url' | 'calls'> }): Promise<number[]> {
  const redis = new Redis(opts.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: true });
  redis.on('error', () => {});
  await redis.connect();
  const times: number[] = [];
  const reply = JSON.stringify({ result: {}, requestId: '-', replayed: false });
  const server = createServer((req, res) => {
    const start = process.hrtime.bigint();
    req.resume();
    req.on('end', () => {
      redis.ping().then(
        () => {
          res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(reply) });
          res.end(reply);
          times.push(Number(process.hrtime.bigint() - start) / 1e6);
        },
        () => {
          res.writeHead(503).end();
        },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    await runLoadClient({ ...opts.client, url: `http://127.0.0.1:${port}`, calls: opts.calls });
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    redis.disconnect();
  }
  if (times.length !== opts.calls) throw new Error(`the control server answered ${times.length} of ${opts.calls} calls; Redis failed during the control run`);
  return times;
}
