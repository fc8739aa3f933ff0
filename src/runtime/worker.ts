import { NativeConnection, Worker } from '@temporalio/worker';
import type { Client } from '@temporalio/client';
import type { Config } from '../config';
import { GatewayClient } from '../gateway-client';
import { readAgentFile } from '../signing';
import type { LlmDeps } from '../../activities';
import { createActivities, createWebhookNotifier, withGatewaySlack } from '../../activities';
import { routeTemporalLogs } from './temporal-logging';
import { WORKFLOWS_PATH } from './workflows-path';
import { createOpenAiClient, gatewaySignedFetch } from '../llm';
import { incidentMetricsSinks } from '../metrics/incident-sinks';
import type { ProcessMetrics } from '../metrics/process-metrics';

export interface RunningWorker {
  worker: Worker;
  /** Resolves when the worker has stopped (after shutdown() or a fatal error). */
  done: Promise<void>;
  shutdown: () => Promise<void>;
}

/**
 * The advising model when DOCKMEDIC_MODEL is set: an `openai` client whose base URL is the
 * gateway's LLM proxy and whose every request is HMAC-signed; the gateway adds the API key.
 * Its timeout leaves the gateway's own upstream timeout (the same setting) room to answer first,
 * so a slow upstream is reported and audited by the gateway.
 */
function advisor(config: Config, gateway: GatewayClient): LlmDeps | undefined {
  if (!config.llm.model) return undefined;
  return {
    openai: createOpenAiClient({
      baseURL: `${config.gateway.url.replace(/\/+$/, '')}/llm/v1`,
      signedFetch: gatewaySignedFetch(gateway),
      timeoutMs: config.llm.timeoutSeconds * 1000 + 5_000,
    }),
    model: config.llm.model,
    maxTurns: config.llm.maxTurns,
    maxTokens: config.llm.maxTokens,
  };
}

/**
 * The Temporal worker: incident workflows plus activities that reach Docker only through the
 * signed gateway client. It never holds the Docker socket or the LLM key. With `metrics`, it counts
 * closed incidents and pages there and serves the SDK's own metrics to it (docs/architecture.md §9).
 */
export async function startWorker(config: Config, client: Client, log: (r: Record<string, unknown>) => void, metrics?: ProcessMetrics): Promise<RunningWorker> {
  const gateway = new GatewayClient({
    baseUrl: config.gateway.url,
    credentials: readAgentFile(config.agentKeyFile),
    timeoutMs: Math.max(30_000, config.llm.timeoutSeconds * 1000 + 5_000),
  });
  const llm = advisor(config, gateway);
  log({ msg: llm ? 'advisor mode' : 'policy mode', ...(llm ? { model: llm.model, maxTurns: llm.maxTurns, maxTokens: llm.maxTokens } : { why: 'DOCKMEDIC_MODEL is not set' }) });
  const notifier = createWebhookNotifier({ webhookUrl: config.escalation.webhookUrl, log: (r) => log({ component: 'notifier', ...r }) });
  const activities = createActivities({
    gateway,
    temporal: client,
    // Slack pages go through the gateway, which holds the Slack credentials (docs/architecture.md §3).
    notifier: config.escalation.slackViaGateway ? withGatewaySlack(notifier, gateway) : notifier,
    drillNotifier: createWebhookNotifier({ webhookUrl: config.drill.webhookUrl, log: (r) => log({ component: 'notifier', drill: true, ...r }) }),
    settings: { uiUrl: config.temporal.uiUrl },
    ...(llm ? { llm } : {}),
    ...(metrics ? { metrics } : {}),
  });
  await routeTemporalLogs(log, metrics?.temporalSdk);
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    workflowsPath: WORKFLOWS_PATH,
    activities,
    sinks: incidentMetricsSinks(metrics),
  });
  const done = worker.run().finally(() => connection.close());
  return {
    worker,
    done,
    shutdown: async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await done;
    },
  };
}
