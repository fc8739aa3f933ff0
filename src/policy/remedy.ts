import type { Action, Decision, Facts, PolicyConfig } from '../contract/policy';
import { formatBytes } from '../contract/text';
import { raisedMemory } from './table';

/** What `approve` runs for an escalation, computed from facts, never from model text. */
export interface Remedy {
  action: Action;
  memoryBytes?: number;
  text: string;
}

/**
 * The natural remedy a person can approve: more memory (within bounds) for an OOM, a restart
 * otherwise; `escalate` when there is nothing within bounds to approve.
 */
export function remedy(decision: Decision | undefined, facts: Facts | undefined, config: PolicyConfig, container: string): Remedy {
  const failure = decision?.failure ?? 'unknown';
  if (failure === 'oom') {
    const next = facts ? raisedMemory(facts, config) : null;
    if (next !== null && facts) {
      return { action: 'raise_memory', memoryBytes: next, text: `raise the memory limit of ${container} from ${formatBytes(facts.memoryBytes)} to ${formatBytes(next)} and start it` };
    }
    return { action: 'escalate', text: 'no automatic action within bounds: suspected leak; a permanent limit change is recommended' };
  }
  if (failure === 'exit' || failure === 'unhealthy' || failure === 'crashloop' || failure === 'unknown') {
    return { action: 'restart', text: `restart ${container}` };
  }
  return { action: 'escalate', text: 'no automatic action' };
}
