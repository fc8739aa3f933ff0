import type Docker from 'dockerode';
import type { Client } from '@temporalio/client';
import type { Config } from '../config';
import { mountAlertmanagerIntake } from '../intake/alertmanager-route';
import type { Watcher } from '../watcher/watcher';
import { redactUrl, startHeartbeat } from './heartbeat';
import type { Log } from './log';
import { selfCheck } from './self-check';
import type { ServiceListener } from './service-listener';
import { sendJson } from './service-listener';

export interface WatcherSideDeps {
  listener: ServiceListener;
  watcher: Watcher;
  docker: Docker;
  client: Client;
  config: Config;
  log: Log;
}

/**
 * The watcher side's routes and its heartbeat (docs/architecture.md §1): `POST /alertmanager`,
 * `GET /healthz` (200 when the event stream is live and a worker answers, 503 naming the check
 * that failed), and the DOCKMEDIC_HEARTBEAT_URL ping. `up` and `watcher` call this once.
 */
export function mountWatcherSide(deps: WatcherSideDeps): { stop: () => void } {
  const { listener, watcher, config, log } = deps;
  mountAlertmanagerIntake(listener, { docker: deps.docker, starter: watcher.incidents, config, log });
  const check = () => selfCheck({ watcher, client: deps.client, config });
  listener.route('GET', '/healthz', async (_req, res) => {
    const result = await check();
    sendJson(res, result.ok ? 200 : 503, { status: result.ok ? 'ok' : 'failing', host: config.host, ...result });
  });
  if (!config.heartbeat.url) return { stop: () => {} };
  log({ msg: 'heartbeat on', url: redactUrl(config.heartbeat.url), intervalSeconds: config.heartbeat.intervalSeconds });
  return startHeartbeat({ url: config.heartbeat.url, intervalSeconds: config.heartbeat.intervalSeconds, check, log });
}
