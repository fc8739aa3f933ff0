import type { ContainerSummary } from '../src/contract/gateway';
import type { Facts, PolicyConfig } from '../src/contract/policy';
import { formatBytes } from '../src/contract/text';
import type { ObservationTracker } from './observations';

/**
 * The policy's facts, from Docker's inspect plus the watcher's observations (events), plus
 * visibility (past OOM incidents). Nothing here comes from model text.
 */
export function factsFrom(summary: ContainerSummary, obs: ObservationTracker, policy: PolicyConfig, priorOomIncidents: number, recurrenceAfterAction: boolean): Facts {
  const labels = summary.labels ?? {};
  // Docker reports ExitCode 0 for a running container; its last exit is then the last `die` seen.
  const exitCode = summary.running ? (obs.lastDie?.exitCode ?? null) : summary.exitCode;
  return {
    optedIn: labels['dockmedic.enable'] === 'true',
    stackMember: labels['dockmedic.stack'] !== undefined,
    oomKilled: summary.oomKilled || obs.oomSeen,
    exitCode,
    restarting: summary.restarting,
    deathsInWindow: obs.crashloopSeen ? Math.max(obs.maxDeaths, policy.crashLoopDeaths) : obs.maxDeaths,
    health: summary.health,
    operatorStop: obs.lastDie?.operatorStop === true,
    running: summary.running,
    memoryBytes: summary.memoryBytes,
    priorOomIncidents,
    recurrenceAfterAction,
  };
}

/** Short evidence lines for people (notifications, `incidents show`). */
export function evidenceLines(facts: Facts | undefined, summary: ContainerSummary | undefined): string[] {
  const out: string[] = [];
  if (summary) {
    out.push(`status ${summary.status}${summary.health ? `, health ${summary.health}` : ''}, restarts ${summary.restartCount}, restart policy ${summary.restartPolicy || 'none'}`);
    out.push(`image ${summary.image}, memory limit ${formatBytes(summary.memoryBytes)}`);
  }
  if (facts) {
    if (facts.oomKilled) out.push('OOM killed');
    if (facts.exitCode !== null) out.push(`exit code ${facts.exitCode}`);
    if (facts.deathsInWindow > 0) out.push(`${facts.deathsInWindow} deaths in the crash-loop window`);
    if (facts.priorOomIncidents > 0) out.push(`${facts.priorOomIncidents} earlier OOM incidents in the recurrence window`);
    if (facts.recurrenceAfterAction) out.push('failed again after dockmedic acted');
  }
  return out;
}
