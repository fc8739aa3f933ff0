import { Refusal } from '../refusal';

/** The HTTP status the Docker engine answered with, when the error came from the engine. */
export function dockerStatus(err: unknown): number | undefined {
  const s = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof s === 'number' ? s : undefined;
}

/**
 * Turn a Docker failure into a refusal. The engine's message is kept short: it can name
 * paths or ids, never secrets, but it is not the caller's business in detail.
 */
export function dockerRefusal(err: unknown, what: string): Refusal {
  if (err instanceof Refusal) return err;
  if (dockerStatus(err) === 404) return new Refusal('container_not_found', 'no such container');
  const json = (err as { json?: { message?: unknown } } | null)?.json;
  const detail = typeof json?.message === 'string' ? json.message : (err as Error)?.message ?? String(err);
  return new Refusal('docker_error', `docker ${what} failed: ${detail.slice(0, 300)}`);
}
