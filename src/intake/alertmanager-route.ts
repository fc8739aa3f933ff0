import type { IncomingMessage, ServerResponse } from 'node:http';
import type Docker from 'dockerode';
import type { Config } from '../config';
import { readBody } from '../gateway/read-body';
import { isRefusal } from '../gateway/refusal';
import type { Log } from '../runtime/log';
import type { ServiceListener } from '../runtime/service-listener';
import { sendJson } from '../runtime/service-listener';
import type { IncidentStarter } from '../watcher/incident-starter';
import { AlertmanagerWebhook } from './alertmanager-payload';
import type { AlertOutcome } from './alert-trigger';
import { triggerFromAlert } from './alert-trigger';
import { bearerMatches, ensureIntakeToken, readIntakeToken } from './intake-token';

export interface IntakeDeps {
  docker: Docker;
  starter: IncidentStarter;
  config: Config;
  log: Log;
}

function refuse(res: ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}): void {
  sendJson(res, status, { error: { code, message } }, headers);
}

/**
 * `POST /alertmanager` (docs/architecture.md §1): Alertmanager's webhook, version 4. The token is
 * checked before the body is read; then size, JSON, schema; then each alert on its own. Status:
 * 401 bad or missing token, 413 too large, 400 malformed, 503 when Docker or Temporal could not be
 * asked for some alert (Alertmanager retries 5xx; triggers are idempotent), 200 when some alert
 * reached an incident, 202 when none did. The body always lists an outcome per alert.
 */
export function mountAlertmanagerIntake(listener: ServiceListener, deps: IntakeDeps): void {
  const { config, log } = deps;
  ensureIntakeToken(config.intake.tokenFile);
  listener.route('POST', '/alertmanager', async (req: IncomingMessage, res: ServerResponse) => {
    if (!bearerMatches(req.headers.authorization, readIntakeToken(config.intake.tokenFile))) {
      log({ msg: 'alertmanager intake refused', code: 'unauthorized' });
      // The body is not read; the connection closes so a large unread body is not kept.
      return refuse(res, 401, 'unauthorized', 'missing or wrong bearer token (Authorization: Bearer <token from the intake token file>)', { 'www-authenticate': 'Bearer', connection: 'close' });
    }
    let body: Buffer;
    try {
      body = await readBody(req, config.intake.maxBodyBytes);
    } catch (err) {
      if (!isRefusal(err)) throw err;
      const tooLarge = err.code === 'body_too_large';
      return refuse(res, tooLarge ? 413 : 400, err.code, err.message, { connection: 'close' });
    }
    let json: unknown;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch {
      return refuse(res, 400, 'malformed_json', 'the body is not JSON');
    }
    const parsed = AlertmanagerWebhook.safeParse(json);
    if (!parsed.success) {
      // Paths and zod's messages only: never the values sent.
      const issues = parsed.error.issues.slice(0, 10).map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`);
      return refuse(res, 400, 'invalid_payload', `not an Alertmanager webhook message (version 4): ${issues.join('; ')}`);
    }
    const message = parsed.data;
    const outcomes: AlertOutcome[] = [];
    // One at a time: two alerts for one container reach its incident in order.
    for (const [i, alert] of message.alerts.entries()) outcomes.push(await triggerFromAlert(deps, alert, i));
    for (const o of outcomes) log({ msg: 'alertmanager alert', receiver: message.receiver, status: o.status, container: o.container, outcome: o.outcome, reason: o.reason, workflowId: o.workflowId });
    const status = outcomes.some((o) => o.outcome === 'error') ? 503 : outcomes.some((o) => o.outcome === 'started' || o.outcome === 'observed') ? 200 : 202;
    sendJson(res, status, { receiver: message.receiver, groupKey: message.groupKey, truncatedAlerts: message.truncatedAlerts, alerts: outcomes });
  });
}
