import Redis from 'ioredis';
import { Refusal } from './refusal';

/**
 * The gateway's Redis connection, tuned to fail closed and fast: no offline queue (a command
 * while disconnected fails at once instead of waiting), one retry, short timeouts, and
 * reconnection in the background so calls succeed again as soon as Redis is back.
 */
export function connectStore(url: string): Redis {
  const redis = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 1000,
    commandTimeout: 1000,
    retryStrategy: (times) => Math.min(50 * times, 500),
    lazyConnect: false,
  });
  // Connection errors surface per command as store_unavailable; the 'error' event only needs a listener.
  redis.on('error', () => {});
  return redis;
}

/** Resolve once the connection is ready, or after `timeoutMs` (the gateway serves either way and fails closed). */
export function waitReady(redis: Redis, timeoutMs: number): Promise<boolean> {
  if (redis.status === 'ready') return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      redis.off('ready', onReady);
      resolve(false);
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve(true);
    };
    redis.once('ready', onReady);
  });
}

/** Run a Redis step; any failure of the store becomes `store_unavailable` (503), so nothing after it runs. */
export async function storeStep<T>(what: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (err) {
    if (err instanceof Refusal) throw err;
    throw new Refusal('store_unavailable', `the gateway's store is unavailable (${what}); nothing was executed`);
  }
}
