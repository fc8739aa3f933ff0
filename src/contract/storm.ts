import { defineSignal } from '@temporalio/workflow';
import { z } from 'zod';
import { bareName } from './container';
import type { EscalationSettings, IncidentState, Outcome } from './incident';
import type { Action } from './policy';
import { ACTIONS } from './policy';

/**
 * A storm (docs/architecture.md §3): many incidents opening on one host at once. The watcher
 * counts openings and starts one storm workflow; the container incidents it links to it still
 * act on their own, within the budgets, but page through the storm, which pages once.
 */

export const STORM_WORKFLOW_TYPE = 'stormWorkflow';

/** `storm-<host>-<start in ms, base 36>`: one per storm, never reused. */
export function stormWorkflowId(host: string, startedAtMs: number): string {
  return `storm-${bareName(host)}-${startedAtMs.toString(36)}`;
}

export interface StormInput {
  host: string;
  /** DOCKMEDIC_STORM_COUNT and DOCKMEDIC_STORM_WINDOW_SECONDS when it was opened. */
  count: number;
  windowSeconds: number;
  escalation: Pick<EscalationSettings, 'ladder' | 'resolveTimeoutSeconds'>;
  uiUrl?: string;
}

/** A container incident the watcher linked to the storm. */
export interface StormMemberRef {
  workflowId: string;
  container: string;
  containerId: string;
}

/**
 * Where a member stands, as it reports it: still deciding; acted (what it did); handed its
 * escalation to the storm (what approve would run); paging on its own (it had paged before it
 * was linked, or the storm had closed); closed (its outcome).
 */
export const STORM_MEMBER_STATUSES = ['deciding', 'acted', 'handed_over', 'paged_alone', 'closed'] as const;
export type StormMemberStatus = (typeof STORM_MEMBER_STATUSES)[number];

export interface StormReport extends StormMemberRef {
  status: StormMemberStatus;
  failure: string;
  /** What was done, in words ("restarted", "refused by the gateway (rate_limited)", …). */
  done: string;
  /** For a handed-over member: what `approve` runs, and why it escalated. */
  remedy?: Action;
  recommendation?: string;
  reason?: string;
  /** A handed-over member whose approved action the gateway's budget refused: when to try again. */
  retryAfterSeconds?: number;
  outcome?: Outcome;
  at: string;
}

/** A member as the storm keeps it: its last report, if any. */
export interface StormMember extends StormMemberRef {
  joinedAt: string;
  report?: StormReport;
  /** The report was in a page the storm sent. */
  paged?: boolean;
}

/** What the storm's `state` query adds to the incident state shape (`incidents show`, `respond`). */
export interface StormState extends IncidentState {
  storm: { count: number; windowSeconds: number; members: StormMember[]; approvedBy?: string };
}

const ref = {
  workflowId: z.string().min(1).max(256),
  container: z.string().min(1).max(256),
  containerId: z.string().max(128),
};

export const StormMembersSchema = z.array(z.object(ref)).max(1000);

export const StormReportSchema = z.object({
  ...ref,
  status: z.enum(STORM_MEMBER_STATUSES),
  failure: z.string().max(64),
  done: z.string().max(500),
  remedy: z.enum(ACTIONS).optional(),
  recommendation: z.string().max(500).optional(),
  reason: z.string().max(2000).optional(),
  retryAfterSeconds: z.number().nonnegative().max(86_400).optional(),
  outcome: z.string().max(64).optional(),
  at: z.string().max(64),
});

/** Watcher → storm: incidents that belong to it. */
export const stormMembersSignal = defineSignal<[StormMemberRef[]]>('stormMembers');
/** Member incident → storm: where it stands. */
export const stormReportSignal = defineSignal<[StormReport]>('stormReport');
/** Watcher → member incident: it belongs to this storm. */
export const joinStormSignal = defineSignal<[{ stormId: string }]>('joinStorm');
