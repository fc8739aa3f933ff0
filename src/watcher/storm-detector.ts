import type { StormMemberRef } from '../contract/storm';

/** What one opening means for the storm: nothing, a storm starts with these members, or it joins the open one. */
export type StormVerdict = { kind: 'none' } | { kind: 'start'; members: StormMemberRef[] } | { kind: 'join'; member: StormMemberRef };

/**
 * Counts incident openings on this host (docs/architecture.md §3). `count` different containers
 * within `windowMs` start a storm; while openings keep coming within `windowMs` of the last one,
 * they join it. `count` 0 turns storms off. Pure and clock-injected, so it is unit-tested.
 */
export class StormDetector {
  private recent: { at: number; member: StormMemberRef }[] = [];
  private lastJoinAt: number | null = null;

  constructor(
    private readonly count: number,
    private readonly windowMs: number,
  ) {}

  /** The storm is over (it closed, or could not be started): the next openings count afresh. */
  endStorm(): void {
    this.lastJoinAt = null;
  }

  opened(member: StormMemberRef, at: number): StormVerdict {
    if (this.count === 0) return { kind: 'none' };
    if (this.lastJoinAt !== null && at - this.lastJoinAt <= this.windowMs) {
      this.lastJoinAt = at;
      return { kind: 'join', member };
    }
    this.lastJoinAt = null;
    // One entry per container: a container that fails twice is still one incident.
    this.recent = this.recent.filter((r) => at - r.at <= this.windowMs && r.member.container !== member.container);
    this.recent.push({ at, member });
    if (this.recent.length < this.count) return { kind: 'none' };
    const members = this.recent.map((r) => r.member);
    this.recent = [];
    this.lastJoinAt = at;
    return { kind: 'start', members };
  }
}
