import type { Command } from 'commander';
import Docker from 'dockerode';
import { loadConfig } from '../../config';
import { createLog, onShutdownSignal } from '../../runtime/log';
import { connectTemporal } from '../../runtime/temporal';
import { startServiceListener } from '../../runtime/service-listener';
import { mountWatcherSide } from '../../runtime/watcher-side';
import { startWorker } from '../../runtime/worker';
import { Watcher } from '../../watcher';
import { nonNegativeInt } from '../options';

/** `dockmedic worker` and `dockmedic watcher`, each alone. */
export function registerWorkerAndWatcher(program: Command): void {
  program
    .command('worker')
    .description('Run the Temporal worker (incident workflows and their activities) alone')
    .action(async () => {
      const config = loadConfig();
      const log = createLog('worker');
      const client = await connectTemporal(config);
      const running = await startWorker(config, client, log);
      log({ msg: 'worker started', taskQueue: config.temporal.taskQueue, temporal: config.temporal.address, gateway: config.gateway.url });
      onShutdownSignal(async () => {
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
      const client = await connectTemporal(config);
      const docker = new Docker({ socketPath: config.dockerSocket });
      const watcher = new Watcher({ docker, temporal: client, config, reconcileWindowSeconds: opts.reconcileWindow, log });
      await watcher.start();
      const listener = await startServiceListener({ ...config.listener, log });
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
