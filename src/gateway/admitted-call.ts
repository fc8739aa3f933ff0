import { canonicalContainerKey, CONTAINER_WINDOW, containerAliasKey, RAW_REF_PREFIX } from './limits';
import type { RateLimiter, WindowLimit } from './rate-limit';
import { bareName } from '../contract/container';

/**
 * A tool call past the replay and rate-limit steps, and the slots it holds in the windows
 * marked countsRunsOnly. Those windows count only calls that run, so a call refused by a later
 * step, or answered from a stored outcome, gives its slots back (release). Scope may have moved
 * the per-container slot to the container's canonical key by then (settleContainer); one
 * object owning both keeps the give-back aimed at where the slot is now.
 */
export class AdmittedCall {
  /** Where each countsRunsOnly window holds this call now ('' = holds nothing). */
  private readonly held: string[];

  constructor(
    private readonly limiter: RateLimiter,
    readonly windows: readonly WindowLimit[],
    /** The key admission charged each window under ('' = not charged). */
    readonly charged: readonly string[],
    private readonly eventId: string,
  ) {
    this.held = windows.map((w, i) => (w.countsRunsOnly ? (charged[i] ?? '') : ''));
  }

  /** Admission found a completed outcome under the call's idempotency key, so the windows that count runs were not charged. */
  get skippedAsStored(): boolean {
    return this.windows.some((w, i) => w.countsRunsOnly && this.charged[i] === '');
  }

  /**
   * After scope: charge the per-container window to the container Docker resolved `ref` to
   * (RateLimiter.rebind). If that window is full this refuses with rate_limited, and the event
   * has left every window, the agent's all-calls one included.
   */
  async settleContainer(ref: string, container: { Id: string; Name: string }): Promise<void> {
    const cw = this.windows.findIndex((w) => w.name === CONTAINER_WINDOW);
    if (cw === -1) return;
    const canonical = canonicalContainerKey(container.Id);
    const name = bareName(container.Name);
    // Charged canonically through the name's alias: nothing to move, no alias to record.
    if (this.charged[cw] === canonical && ref === name) return;
    await this.limiter.rebind({
      window: this.windows[cw]!,
      usedKey: this.charged[cw]!,
      canonicalKey: canonical,
      aliasKeys: [...new Set([ref, name])].map(containerAliasKey),
      rawPrefix: RAW_REF_PREFIX,
      otherKeys: this.charged.filter((_, i) => i !== cw),
      eventId: this.eventId,
    });
    this.held[cw] = canonical;
  }

  /** The call will not run: give back what the windows that count runs hold (best effort, see RateLimiter.uncharge). */
  async release(): Promise<void> {
    await this.limiter.uncharge(
      this.held.filter((k) => k !== ''),
      this.eventId,
    );
  }
}
