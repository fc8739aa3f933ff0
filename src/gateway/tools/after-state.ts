import type { ContainerInspectInfo } from 'dockerode';
import { timedDocker } from '../context';
import { dockerRefusal } from '../docker/docker-errors';
import type { ToolEnv } from './tool';
import type { MutationResult } from '../../contract/gateway';
import { bareName } from '../../contract/container';

/** Inspect again after a mutation: the result reports the state Docker has now, not what we hoped. Called only once the mutation took effect. */
export async function stateAfter(env: ToolEnv, id: string): Promise<ContainerInspectInfo> {
  env.ctx.effected = true;
  try {
    return await timedDocker(env.ctx, () => env.docker.getContainer(id).inspect());
  } catch (err) {
    throw dockerRefusal(err, 'inspect');
  }
}

export function mutationResult(action: MutationResult['action'], info: ContainerInspectInfo, before?: MutationResult['before']): MutationResult {
  return {
    container: bareName(info.Name),
    action,
    after: {
      status: info.State.Status,
      running: info.State.Running,
      restartCount: info.RestartCount,
      memoryBytes: info.HostConfig.Memory ?? 0,
      memorySwapBytes: info.HostConfig.MemorySwap ?? 0,
    },
    ...(before ? { before } : {}),
  };
}

export function mutationSummary(r: MutationResult): Record<string, unknown> {
  return { action: r.action, ...r.after, ...(r.before ? { before: r.before } : {}) };
}

/**
 * The container (re)started after the claim: the restart or start of a gateway that died took
 * effect. The claim is written before Docker is called, and both clocks are this host's.
 */
export function startedSince(action: MutationResult['action'], target: ContainerInspectInfo, claimedAtMs: number): { result: MutationResult; summary: Record<string, unknown> } | null {
  const started = Date.parse(target.State.StartedAt);
  // Judged by the start alone: a container that crashed again since is still one restarted.
  if (!(started > claimedAtMs)) return null;
  const result = mutationResult(action, target);
  return { result, summary: mutationSummary(result) };
}
