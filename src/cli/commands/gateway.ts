import type { Command } from 'commander';
import { loadConfig, loadLlmUpstream, loadSlackGateway } from '../../config';
import type { AuditRecord, RunningGateway } from '../../gateway';
import { startGateway } from '../../gateway';
import type { Log } from '../../runtime/log';
import { createLog } from '../../runtime/log';
import { ProcessMetrics } from '../../metrics/process-metrics';

/**
 * One log line per gateway request: who, what, verdict, how long. No arguments, no headers, no
 * secrets (the audit file has the arguments). Used by `dockmedic gateway` and `dockmedic up`.
 */
export function gatewayRequestLogger(log: Log = createLog('gateway')): (r: AuditRecord) => void {
  return (r) =>
    log({
      level: r.verdict === 'allowed' ? 'info' : 'warn',
      msg: 'request',
      requestId: r.requestId,
      agent: r.agent,
      keyId: r.keyId,
      tool: r.tool,
      target: r.target?.name ?? r.target?.ref ?? null,
      verdict: r.verdict,
      code: r.code,
      status: r.status,
      replayed: r.replayed,
      durationMs: r.durationMs,
      workflowId: r.workflowId,
    });
}

/** Said once at start: until Redis answers, the gateway refuses every call (fail closed), and /healthz says 503. */
export function warnIfStoreDown(gw: RunningGateway, redisUrl: string, log: Log): void {
  if (gw.storeReadyAtStart) return;
  let where = 'Redis';
  try {
    where = `Redis at ${new URL(redisUrl).host}`; // host only: the URL may carry a password
  } catch {
    /* keep the generic name */
  }
  log({ level: 'warn', msg: `${where} does not answer: every call is refused with store_unavailable until it does` });
}

/** `dockmedic gateway`: run the tool gateway in the foreground until SIGTERM/SIGINT. */
export function registerGateway(program: Command): void {
  program
    .command('gateway')
    .description('Run the tool gateway: the one enforcement point for Docker and LLM calls (HMAC, replay, rate limits, scope, bounds, audit)')
    .addHelpText(
      'after',
      `
Configuration comes from the environment (see README: Configuration), e.g.
  DOCKMEDIC_GATEWAY_HOST / DOCKMEDIC_GATEWAY_PORT   where to listen (default 127.0.0.1:7801)
  DOCKMEDIC_GATEWAY_KEYS_FILE                       agents' HMAC keys (mode 0600)
  DOCKMEDIC_AUDIT_FILE                              hash-chained audit log (JSON Lines)
  REDIS_URL, DOCKER_SOCKET
  OPENAI_BASE_URL / OPENAI_API_KEY                  the LLM upstream it proxies to (read by the gateway only)
  DOCKMEDIC_SLACK_SIGNING_SECRET                    verifies Slack button clicks at POST /slack/interactivity
  DOCKMEDIC_SLACK_BOT_TOKEN + DOCKMEDIC_SLACK_CHANNEL, or DOCKMEDIC_SLACK_WEBHOOK_URL
                                                    how pages are posted to Slack (read by the gateway only)

GET /healthz and GET /metrics (Prometheus text format) are served unauthenticated on the same port.
Signals: SIGTERM/SIGINT stop gracefully; SIGHUP re-reads the keys file (it is also re-read when it changes).
Each request is logged to stderr as one JSON line.`,
    )
    .action(async () => {
      const config = loadConfig();
      const log = createLog('gateway');
      // The gateway is the only process that reads the LLM upstream's URL and key.
      const llmUpstream = loadLlmUpstream();
      // And the only one that reads the Slack signing secret and bot token.
      const slack = loadSlackGateway();
      const gw = await startGateway(config, {
        llmUpstream,
        slack,
        onRecord: gatewayRequestLogger(log),
        onError: (err, requestId) => log({ level: 'error', msg: 'internal error', requestId, error: String((err as Error)?.message ?? err) }),
        metrics: new ProcessMetrics(),
      });
      log({ level: 'info', msg: 'gateway listening', url: gw.url, auditFile: gw.auditFile, llm: llmUpstream.baseUrl ? 'configured' : 'not_configured', slack: { buttons: slack.signingSecret !== undefined, pages: slack.delivery?.via ?? 'not_configured' } });
      warnIfStoreDown(gw, config.redisUrl, log);
      process.on('SIGHUP', () => {
        try {
          gw.reloadKeys();
          log({ level: 'info', msg: 'keys reloaded' });
        } catch (err) {
          log({ level: 'error', msg: 'keys reload failed; keeping the previous keys', error: (err as Error).message });
        }
      });
      await new Promise<void>((resolve) => {
        const stop = (signal: string) => {
          log({ level: 'info', msg: 'stopping', signal });
          resolve();
        };
        process.once('SIGTERM', () => stop('SIGTERM'));
        process.once('SIGINT', () => stop('SIGINT'));
      });
      await gw.close();
      log({ level: 'info', msg: 'gateway stopped' });
    });
}
