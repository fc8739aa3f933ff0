import type { WindowLimit } from './rate-limit';
import type { GatewayLimits } from './settings';

/**
 * The per-container window's key. Docker accepts a name or an id (or a unique id prefix);
 * ids are folded to their 12-character short form so the full and short id share a window.
 */
export function containerKey(ref: string): string {
  return /^[a-f0-9]{12,64}$/.test(ref) ? ref.slice(0, 12) : ref;
}

/** Which windows a tool call counts against: every call per agent; mutating calls per agent and per container. */
export function toolWindows(limits: GatewayLimits, agentId: string, mutating: boolean, containerRef: string | null): WindowLimit[] {
  const windows: WindowLimit[] = [{ name: 'agent_calls', key: `rl:agent:${agentId}:calls`, ...limits.agentCalls }];
  if (mutating) {
    windows.push({ name: 'agent_mutating', key: `rl:agent:${agentId}:mutating`, ...limits.agentMutating });
    if (containerRef !== null) windows.push({ name: 'container_mutating', key: `rl:container:${containerKey(containerRef)}:mutating`, ...limits.containerMutating });
  }
  return windows;
}

export function llmWindows(limits: GatewayLimits, agentId: string): { requests: WindowLimit; tokens: WindowLimit } {
  return {
    requests: { name: 'llm_requests', key: `rl:agent:${agentId}:llm-requests`, ...limits.llmRequests },
    tokens: { name: 'llm_tokens', key: `rl:agent:${agentId}:llm-tokens`, ...limits.llmTokens },
  };
}
