import type { ContainerInspectInfo } from 'dockerode';
import type { ContainerSummary } from '../../contract/gateway';
import { bareName } from '../../contract/container';

/** The facts of `docker inspect` the policy needs, and nothing secret (no env, no mounts, no command line). */
export function toContainerSummary(info: ContainerInspectInfo): ContainerSummary {
  const health = info.State.Health?.Status;
  return {
    id: info.Id,
    name: bareName(info.Name),
    image: info.Config.Image,
    labels: info.Config.Labels ?? {},
    status: info.State.Status,
    running: info.State.Running,
    restarting: info.State.Restarting,
    oomKilled: info.State.OOMKilled,
    exitCode: info.State.ExitCode,
    health: health === 'healthy' || health === 'unhealthy' || health === 'starting' ? health : null,
    restartCount: info.RestartCount,
    restartPolicy: info.HostConfig.RestartPolicy?.Name || 'no',
    startedAt: info.State.StartedAt,
    finishedAt: info.State.FinishedAt,
    memoryBytes: info.HostConfig.Memory ?? 0,
    memorySwapBytes: info.HostConfig.MemorySwap ?? 0,
  };
}
