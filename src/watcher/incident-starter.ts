import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { Config } from '../config';
import type { IncidentInput, Observation, Outcome } from '../contract/incident';
import { INCIDENT_WORKFLOW_TYPE, incidentWorkflowId } from '../contract/incident';
import { SA } from '../contract/search-attributes';
import { observeSignal } from '../contract/signals';
import { DRILL_HOST_LABEL, DRILL_ID_PATTERN, DRILL_LABEL } from '../contract/drill';
import type { StormInput, StormMemberRef, StormReport } from '../contract/storm';
import { STORM_WORKFLOW_TYPE, joinStormSignal, stormMembersSignal, stormReportSignal, stormWorkflowId } from '../contract/storm';
import { StormDetector } from './storm-detector';

export interface ContainerRefInfo {
  id: string;
  name: string;
  /** The container's labels, as Docker's event or listing gave them (the drill labels are read from here). */
  labels?: Record<string, string>;
}

/** The drill id when the container is one of this host's drills (docs/architecture.md §6). */
export function drillOf(config: Config, labels: Record<string, string> | undefined): string | undefined {
  const id = labels?.[DRILL_LABEL];
  return id !== undefined && labels?.[DRILL_HOST_LABEL] === config.host && DRILL_ID_PATTERN.test(id) ? id : undefined;
}

/** An incident's start argument: the container and its trigger, with the policy, ladder and model settings in force. */
export function incidentInputFrom(config: Config, container: ContainerRefInfo, observation: Observation): IncidentInput {
  const drill = drillOf(config, container.labels);
  return {
    host: config.host,
    container: container.name,
    containerId: container.id,
    trigger: observation,
    // A drill has its own short stabilisation window and ladder: the catalogue runs in minutes.
    policy: drill ? { ...config.policy, stabilizationSeconds: config.drill.stabilizationSeconds } : config.policy,
    escalation: {
      ladder: drill ? config.drill.ladder : config.escalation.ladder,
      resolveTimeoutSeconds: config.escalation.resolveTimeoutSeconds,
      // A drill runs its scenario every time: it is never held back by a quiet period.
      ...(drill || config.escalation.repageQuietSeconds === 0 ? {} : { repageQuietSeconds: config.escalation.repageQuietSeconds }),
    },
    llm: { enabled: config.llm.model !== undefined, maxTurns: config.llm.maxTurns, timeoutSeconds: config.llm.timeoutSeconds },
    uiUrl: config.temporal.uiUrl,
    ...(drill ? { drill } : {}),
    ...(config.watch.selector.length > 0 ? { watchSelector: [...config.watch.selector] } : {}),
    ...(config.mode === 'shadow' ? { mode: 'shadow' as const } : {}),
  };
}

/** Opens incidents (one per container, by signalWithStart) and forwards observations to open ones. */
export class IncidentStarter {
  /** The container id of the incident this watcher last opened or signalled, by container name. */
  private readonly openedFor = new Map<string, string>();
  private readonly storms: StormDetector;
  /** The storm new incidents join while openings keep coming (docs/architecture.md §3). */
  private stormId: string | null = null;
  private stormQueue: Promise<void> = Promise.resolve();

  constructor(
    private readonly client: Client,
    private readonly config: Config,
    private readonly replacedWaitMs = 15_000,
    private readonly log: (record: Record<string, unknown>) => void = () => undefined,
  ) {
    const { count, windowSeconds } = config.escalation.storm;
    // Shadow mode pages nobody, so it has no storm to page about either.
    this.storms = new StormDetector(config.mode === 'shadow' ? 0 : count, windowSeconds * 1000);
  }

  workflowId(name: string): string {
    return incidentWorkflowId(this.config.host, name);
  }

  /** Start the container's incident, or signal it when one is already open. Returns the workflow id. */
  async open(container: ContainerRefInfo, observation: Observation): Promise<string> {
    const workflowId = this.workflowId(container.name);
    const known = this.openedFor.get(container.name) === container.id;
    await this.signalWithStart(workflowId, container, observation);
    // Known here: the same container as last time, no lookup. Otherwise (first sight since this
    // watcher started, or a new id under the name) the signal may have gone to an incident of an
    // earlier container of that name, recreated since (docker compose up): that incident takes the
    // foreign id as its end and closes as container_gone (docs/architecture.md §3); once it has,
    // the same observation opens the new container's own incident.
    if (!known && (await this.heldByAnother(workflowId, container.id))) {
      if (await this.closedWithin(workflowId, this.replacedWaitMs)) await this.signalWithStart(workflowId, container, observation);
    }
    this.openedFor.set(container.name, container.id);
    // A drill is dockmedic testing itself: it never counts towards a storm, nor joins one. The
    // storm's signals queue behind each other, not in front of the next event's incident.
    if (!drillOf(this.config, container.labels)) {
      const member = { workflowId, container: container.name, containerId: container.id };
      this.stormQueue = this.stormQueue.then(() => this.countTowardsStorm(member));
    }
    return workflowId;
  }

  /**
   * The storm's bookkeeping never stops an incident: it has been opened already, and acts and
   * pages on its own if the storm cannot be started or told.
   */
  private async countTowardsStorm(member: StormMemberRef): Promise<void> {
    const verdict = this.storms.opened(member, Date.now());
    try {
      if (verdict.kind === 'start') {
        this.stormId = null;
        this.stormId = await this.startStorm(verdict.members);
        this.log({ msg: 'storm opened', stormId: this.stormId, members: verdict.members.length });
      }
      const members = verdict.kind === 'start' ? verdict.members : verdict.kind === 'join' ? [verdict.member] : [];
      const stormId = this.stormId;
      if (members.length === 0 || stormId === null) return;
      const storm = this.client.workflow.getHandle(stormId);
      try {
        await storm.signal(stormMembersSignal, members);
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError)) throw err;
        // The storm has closed (answered, or quiet): this incident pages on its own, and the next burst is a new storm.
        this.stormId = null;
        this.storms.endStorm();
        return;
      }
      await Promise.all(
        members.map((m) =>
          this.client.workflow
            .getHandle(m.workflowId)
            .signal(joinStormSignal, { stormId })
            // An incident that closed already (ignored, say) cannot say so itself: the watcher tells the storm.
            .catch(async (err: unknown) => {
              if (!(err instanceof WorkflowNotFoundError)) throw err;
              const sa = (await this.client.workflow.getHandle(m.workflowId).describe()).typedSearchAttributes;
              const outcome = sa.get(SA.outcome) as Outcome | undefined;
              const report: StormReport = { ...m, status: 'closed', failure: sa.get(SA.failure) ?? 'unknown', done: 'closed before the storm began', at: new Date().toISOString(), ...(outcome ? { outcome } : {}) };
              await storm.signal(stormReportSignal, report);
            }),
        ),
      );
    } catch (err) {
      if (this.stormId === null) this.storms.endStorm();
      this.log({ msg: 'storm bookkeeping failed; its incidents page on their own', error: (err as Error).message });
    }
  }

  private async startStorm(members: StormMemberRef[]): Promise<string> {
    const startedAt = Date.now();
    const workflowId = stormWorkflowId(this.config.host, startedAt);
    const { ladder, resolveTimeoutSeconds, storm } = this.config.escalation;
    const input: StormInput = {
      host: this.config.host,
      count: storm.count,
      windowSeconds: storm.windowSeconds,
      escalation: { ladder, resolveTimeoutSeconds },
      uiUrl: this.config.temporal.uiUrl,
    };
    await this.client.workflow.start(STORM_WORKFLOW_TYPE, {
      workflowId,
      taskQueue: this.config.temporal.taskQueue,
      args: [input],
      typedSearchAttributes: [
        { key: SA.container, value: 'storm' },
        { key: SA.host, value: this.config.host },
      ],
      staticSummary: `storm of ${members.length}+ incidents on ${this.config.host}`,
    });
    return workflowId;
  }

  /** Resolves once the storm bookkeeping of every incident opened so far is done (the watcher's stop waits for it). */
  settled(): Promise<void> {
    return this.stormQueue;
  }

  /** Whether the latest incident under this id is about another container (its memo says which). */
  private async heldByAnother(workflowId: string, containerId: string): Promise<boolean> {
    const desc = await this.client.workflow.getHandle(workflowId).describe();
    const heldBy = (desc.memo as { containerId?: unknown } | undefined)?.containerId;
    // Incidents opened before the memo existed cannot say: they are taken to be this container's, as before.
    return typeof heldBy === 'string' && heldBy !== containerId;
  }

  private async closedWithin(workflowId: string, ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    for (;;) {
      if ((await this.client.workflow.getHandle(workflowId).describe()).status.name !== 'RUNNING') return true;
      if (Date.now() >= deadline) return false;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  private async signalWithStart(workflowId: string, container: ContainerRefInfo, observation: Observation): Promise<void> {
    const input = incidentInputFrom(this.config, container, observation);
    await this.client.workflow.signalWithStart(INCIDENT_WORKFLOW_TYPE, {
      workflowId,
      taskQueue: this.config.temporal.taskQueue,
      args: [input],
      signal: observeSignal,
      signalArgs: [observation],
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      // Which container this run is about: names are reused, ids are not.
      memo: { containerId: container.id },
      typedSearchAttributes: [
        { key: SA.container, value: container.name },
        { key: SA.host, value: this.config.host },
        ...(input.drill ? [{ key: SA.drill, value: input.drill }] : []),
      ],
      staticSummary: `${observation.kind} on ${container.name} (${this.config.host})`,
    });
  }

  /**
   * Whether this container has an incident (open, or started at or after `sinceIso`). With
   * `containerId`, an incident about an earlier container of the same name does not count.
   */
  async hasIncidentSince(name: string, sinceIso: string, containerId?: string): Promise<boolean> {
    const id = this.workflowId(name).replace(/'/g, '');
    const query = `WorkflowId = '${id}' AND (ExecutionStatus = 'Running' OR StartTime >= '${new Date(sinceIso).toISOString()}')`;
    const { count } = await this.client.workflow.count(query);
    if (count === 0) return false;
    return containerId === undefined || !(await this.heldByAnother(id, containerId));
  }

  /** Signal the container's open incident; false when there is none. */
  async forward(container: ContainerRefInfo, observation: Observation): Promise<boolean> {
    try {
      await this.client.workflow.getHandle(this.workflowId(container.name)).signal(observeSignal, observation);
      return true;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return false;
      throw err;
    }
  }
}
