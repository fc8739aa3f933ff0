import type { Command } from 'commander';
import Docker from 'dockerode';
import { loadConfig } from '../../config';
import { createLog, onShutdownSignal } from '../../runtime/log';
import { connectTemporal } from '../../runtime/temporal';
import { startServiceListener } from '../../runtime/service-listener';
import { mountWatcherSide } from '../../runtime/watcher-side';
import { startWorker } from '../../runtime/worker';
import { Watcher } from '../../watcher';
import { mountMetrics } from '../../metrics/metrics-endpoint';
import { ProcessMetrics } from '../../metrics/process-metrics';
import { nonNegativeInt } from '../options';

/** `dockmedic worker` and `dockmedic watcher`, each alone. */
export function registerWorkerAndWatcher(program: Command): void {
  program
    .command('worker')
    .description('Run the Temporal worker (incident workflows and their activities) alone')
    .addHelpText('after', '\nWith DOCKMEDIC_METRICS_PORT set (0: a free port), GET /metrics is served on DOCKMEDIC_METRICS_HOST (default 127.0.0.1).')
    .action(async () => {
      const config = loadConfig();
      const log = createLog('worker');
      const metrics = new ProcessMetrics();
      const client = await connectTemporal(config);
      const running = await startWorker(config, client, log, metrics);
      // Alone, the worker has no listener; its metrics (incidents, pages, the SDK's) are served only when asked for.
      const listener = config.workerMetrics ? await startServiceListener({ ...config.workerMetrics, log }) : null;
      if (listener) mountMetrics(listener, metrics);
      log({ msg: 'worker started', taskQueue: config.temporal.taskQueue, temporal: config.temporal.address, gateway: config.gateway.url, ...(listener ? { metrics: `${listener.url}/metrics` } : {}) });
      onShutdownSignal(async () => {
        await listener?.close();
        await running.shutdown();
        await client.connection.close();
      });
      await running.done;
    });

  program
    .command('watcher')
    .description('Follow Docker events of opted-in containers (label dockmedic.enable=true) and open incidents')
    .option('--reconcile-window <seconds>', 'how far back start-up reconciliation looks for missed failures (0: none)', nonNegativeInt('--reconcile-window'), 3600)
    .action(async (opts: { reconcileWindow: number }) => {
      const config = loadConfig();
      const log = createLog('watcher');
      const metrics = new ProcessMetrics();
      const client = await connectTemporal(config);
      const docker = new Docker({ socketPath: config.dockerSocket });
      const watcher = new Watcher({ docker, temporal: client, config, reconcileWindowSeconds: opts.reconcileWindow, log, metrics });
      await watcher.start();
      const listener = await startServiceListener({ ...config.listener, log });
      mountMetrics(listener, metrics);
      const side = mountWatcherSide({ listener, watcher, docker, client, config, log });
      log({ msg: 'watcher started', host: config.host, taskQueue: config.temporal.taskQueue, listener: listener.url });
      await new Promise<void>((resolve) =>
        onShutdownSignal(async () => {
          side.stop();
          await listener.close();
          await watcher.stop();
          await client.connection.close();
          resolve();
        }),
      );
    });
}
