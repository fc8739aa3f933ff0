import type { Command } from 'commander';
import Docker from 'dockerode';
import { loadConfig, loadLlmUpstream, loadSlackGateway } from '../../config';
import { startGateway } from '../../gateway/start';
import { createLog, onShutdownSignal } from '../../runtime/log';
import { connectTemporal } from '../../runtime/temporal';
import { startServiceListener } from '../../runtime/service-listener';
import { mountWatcherSide } from '../../runtime/watcher-side';
import { startWorker } from '../../runtime/worker';
import { Watcher } from '../../watcher';
import { mountMetrics } from '../../metrics/metrics-endpoint';
import { ProcessMetrics } from '../../metrics/process-metrics';
import { gatewayRequestLogger, warnIfStoreDown } from './gateway';
import { nonNegativeInt } from '../options';

/** `dockmedic up`: gateway, worker and watcher of one host in one process. */
export function registerUp(program: Command): void {
  program
    .command('up')
    .description('Run gateway + worker + watcher for this host in one process')
    .option('--reconcile-window <seconds>', 'how far back start-up reconciliation looks for missed failures (0: none)', nonNegativeInt('--reconcile-window'), 3600)
    .action(async (opts: { reconcileWindow: number }) => {
      const loaded = loadConfig();
      const log = createLog('up');
      const docker = new Docker({ socketPath: loaded.dockerSocket });
      // One registry for the whole process, served once, on the listener (docs/architecture.md §9).
      const metrics = new ProcessMetrics();
      // The LLM upstream's URL and key, and the Slack credentials, go to the gateway part only; the worker talks to the gateway.
      const slack = loadSlackGateway();
      const gateway = await startGateway(loaded, { docker, onRecord: gatewayRequestLogger(), llmUpstream: loadLlmUpstream(), slack, metrics, serveMetrics: false });
      warnIfStoreDown(gateway, loaded.redisUrl, log);
      // The worker talks to the gateway it just started (its port may have been chosen by the OS), and
      // pages through it when that gateway can post to Slack.
      const config = {
        ...loaded,
        gateway: { ...loaded.gateway, url: gateway.url },
        escalation: { ...loaded.escalation, slackViaGateway: loaded.escalation.slackViaGateway || slack.delivery !== undefined },
      };
      const client = await connectTemporal(config);
      const worker = await startWorker(config, client, createLog('worker'), metrics);
      const watcher = new Watcher({ docker, temporal: client, config, reconcileWindowSeconds: opts.reconcileWindow, log: createLog('watcher'), metrics });
      await watcher.start();
      const listener = await startServiceListener({ ...config.listener, log });
      mountMetrics(listener, metrics);
      const side = mountWatcherSide({ listener, watcher, docker, client, config, log: createLog('watcher') });
      log({ msg: 'dockmedic up', host: config.host, gateway: gateway.url, listener: listener.url, temporal: config.temporal.address, ui: config.temporal.uiUrl, taskQueue: config.temporal.taskQueue, mode: config.llm.model ? `advisor (${config.llm.model})` : 'policy' });
      process.stdout.write(`dockmedic is up on ${config.host}\n  gateway      ${gateway.url}\n  listener     ${listener.url}\n  Temporal UI  ${config.temporal.uiUrl}\n  mode         ${config.llm.model ? `advisor (${config.llm.model}); the policy decides` : 'policy (no model configured)'}\n`);
      const stop = async () => {
        side.stop();
        await listener.close();
        await watcher.stop();
        await worker.shutdown();
        await gateway.close();
        await client.connection.close();
      };
      onShutdownSignal(stop);
      await worker.done;
    });
}
