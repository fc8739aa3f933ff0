import { randomBytes } from 'node:crypto';
import { z } from 'zod';

const KeyId = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/);
/** An agent's id, in both key files and in `dockmedic keys init --agent`. */
export const AgentId = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'agent id must be 1–64 characters from A–Z a–z 0–9 _ . -');
/** Secrets are hex-encoded, at least 256 bits. */
const Secret = z.string().regex(/^[0-9a-f]{64,128}$/, 'secret must be 64–128 hex characters');

/** One HMAC key of an agent. `retired` keys are refused but kept so refusals can say why. */
export const AgentKey = z.object({
  keyId: KeyId,
  secret: Secret,
  status: z.enum(['live', 'retired']).default('live'),
  createdAt: z.string().optional(),
});
export type AgentKey = z.infer<typeof AgentKey>;

/** The gateway's key file: every agent and its keys (two live ones during a rotation). */
export const GatewayKeys = z.object({
  agents: z.record(AgentId, z.array(AgentKey).min(1)),
});
export type GatewayKeys = z.infer<typeof GatewayKeys>;

/** The agent's (worker's) key file: the key it signs with. */
export const AgentCredentials = z.object({
  agentId: AgentId,
  keyId: KeyId,
  secret: Secret,
});
export type AgentCredentials = z.infer<typeof AgentCredentials>;

export function generateSecret(): string {
  return randomBytes(32).toString('hex');
}

export function generateKeyId(): string {
  return `k-${new Date().toISOString().slice(0, 10).replace(/-/g, '')}-${randomBytes(4).toString('hex')}`;
}
