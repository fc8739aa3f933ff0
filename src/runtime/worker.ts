import { NativeConnection, Worker } from '@temporalio/worker';
import type { Client } from '@temporalio/client';
import type { Config } from '../config';
import { GatewayClient, loadAgentCredentials } from '../gateway-client';
import { createActivities, createWebhookNotifier } from '../../activities';

export interface RunningWorker {
  worker: Worker;
  /** Resolves when the worker has stopped (after shutdown() or a fatal error). */
  done: Promise<void>;
  shutdown: () => Promise<void>;
}

/**
 * The Temporal worker: incident workflows plus activities that reach Docker only through the
 * signed gateway client. It never holds the Docker socket or the LLM key.
 */
export async function startWorker(config: Config, client: Client, log: (r: Record<string, unknown>) => void): Promise<RunningWorker> {
  const gateway = new GatewayClient({
    baseUrl: config.gateway.url,
    credentials: loadAgentCredentials(config.agentKeyFile),
    timeoutMs: Math.max(30_000, config.llm.timeoutSeconds * 1000 + 5_000),
  });
  const activities = createActivities({
    gateway,
    temporal: client,
    notifier: createWebhookNotifier({ webhookUrl: config.escalation.webhookUrl, log: (r) => log({ component: 'notifier', ...r }) }),
    settings: { uiUrl: config.temporal.uiUrl },
  });
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    workflowsPath: require.resolve('../../workflows'),
    activities,
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
