import type { WindowLimit } from './rate-limit';
import type { GatewayLimits } from './settings';
import type { Budget } from '../contract/gateway';

/**
 * Container windows. Docker accepts a name, a full id or an id prefix for the same container,
 * so the window that counts is keyed by the container's short id (`…:id:<12 hex>`). Before
 * scope has asked Docker, a call is charged under its reference (`…:ref:<ref>`), or under the
 * canonical window the reference is known to alias; scope then rebinds it (RateLimiter.rebind).
 */
export const CONTAINER_WINDOW_PREFIX = 'rl:container:';
export const RAW_REF_PREFIX = `${CONTAINER_WINDOW_PREFIX}ref:`;

export function canonicalContainerKey(id: string): string {
  return `${CONTAINER_WINDOW_PREFIX}id:${id.slice(0, 12)}`;
}

export function containerAliasKey(ref: string): string {
  return `rl:alias:${ref}`;
}

function containerWindowKey(ref: string): string {
  // A full id is already canonical; anything shorter may be a name that looks like hex.
  return /^[a-f0-9]{64}$/.test(ref) ? canonicalContainerKey(ref) : `${RAW_REF_PREFIX}${ref}`;
}

export const CONTAINER_WINDOW = 'container_mutating';

/**
 * Which windows a tool call counts against: every call per agent; mutating calls per agent (or,
 * on the drill budget, per agent in the drill window: docs/architecture.md §6) and per container.
 * The drill tools themselves pass no container: removing a drill must not wait on its restarts.
 */
export function toolWindows(limits: GatewayLimits, agentId: string, mutating: boolean, containerRef: string | null, budget: Budget | null = null): WindowLimit[] {
  const windows: WindowLimit[] = [{ name: 'agent_calls', key: `rl:agent:${agentId}:calls`, ...limits.agentCalls }];
  if (mutating) {
    if (budget === 'drill') windows.push({ name: 'drill_mutating', key: `rl:agent:${agentId}:drill-mutating`, countsRunsOnly: true, ...limits.drillMutating });
    else windows.push({ name: 'agent_mutating', key: `rl:agent:${agentId}:mutating`, countsRunsOnly: true, ...limits.agentMutating });
    if (containerRef !== null) {
      windows.push({
        name: CONTAINER_WINDOW,
        key: containerWindowKey(containerRef),
        alias: containerAliasKey(containerRef),
        countsRunsOnly: true,
        ...limits.containerMutating,
      });
    }
  }
  return windows;
}

export function llmWindows(limits: GatewayLimits, agentId: string): { requests: WindowLimit; tokens: WindowLimit } {
  return {
    requests: { name: 'llm_requests', key: `rl:agent:${agentId}:llm-requests`, ...limits.llmRequests },
    tokens: { name: 'llm_tokens', key: `rl:agent:${agentId}:llm-tokens`, ...limits.llmTokens },
  };
}
