import { Refusal } from './refusal';

export interface MemoryBoundsPolicy {
  /** A new limit may be at most current × this. */
  memoryMaxFactor: number;
  /** …and never above this many bytes. */
  memoryCeilingBytes: number;
}

/** What Docker is sent: memory and swap together, so the engine accepts it and the swap policy survives. */
export interface MemoryUpdatePlan {
  memoryBytes: number;
  /** Omitted when the container has no swap setting to keep. */
  memorySwapBytes?: number;
  before: { memoryBytes: number; memorySwapBytes: number };
}

/**
 * Bounds step for update_container_resources: memory only goes up, by at most the factor,
 * to at most the ceiling; an unlimited container is not "raised" to a limit.
 * Swap keeps its policy: unlimited (-1) stays unlimited; a finite swap keeps its amount
 * (MemorySwap − Memory) on top of the new memory. Docker refuses a memory update that
 * leaves the swap limit below it, so both are always sent together.
 */
export function planMemoryUpdate(current: { memoryBytes: number; memorySwapBytes: number }, requested: number, policy: MemoryBoundsPolicy): MemoryUpdatePlan {
  const { memoryBytes: mem, memorySwapBytes: swap } = current;
  if (mem <= 0) throw new Refusal('memory_unlimited', 'the container has no memory limit; there is nothing to raise');
  if (requested <= mem) throw new Refusal('memory_not_raised', `memory can only be raised (current ${mem} bytes, requested ${requested})`);
  if (requested > mem * policy.memoryMaxFactor) {
    throw new Refusal('memory_factor_exceeded', `at most ×${policy.memoryMaxFactor} the current limit (${Math.floor(mem * policy.memoryMaxFactor)} bytes)`);
  }
  if (requested > policy.memoryCeilingBytes) throw new Refusal('memory_above_ceiling', `at most the ceiling of ${policy.memoryCeilingBytes} bytes`);
  const before = { memoryBytes: mem, memorySwapBytes: swap };
  if (swap === -1) return { memoryBytes: requested, memorySwapBytes: -1, before };
  if (swap > 0) return { memoryBytes: requested, memorySwapBytes: requested + Math.max(0, swap - mem), before };
  return { memoryBytes: requested, before };
}
