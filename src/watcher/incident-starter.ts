import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { Config } from '../config';
import type { IncidentInput, Observation } from '../contract/incident';
import { INCIDENT_WORKFLOW_TYPE, incidentWorkflowId } from '../contract/incident';
import { SA } from '../contract/search-attributes';
import { observeSignal } from '../contract/signals';
import { DRILL_HOST_LABEL, DRILL_ID_PATTERN, DRILL_LABEL } from '../contract/drill';

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
    escalation: { ladder: drill ? config.drill.ladder : config.escalation.ladder, resolveTimeoutSeconds: config.escalation.resolveTimeoutSeconds },
    llm: { enabled: config.llm.model !== undefined, maxTurns: config.llm.maxTurns, timeoutSeconds: config.llm.timeoutSeconds },
    uiUrl: config.temporal.uiUrl,
    ...(drill ? { drill } : {}),
    ...(config.watch.selector.length > 0 ? { watchSelector: [...config.watch.selector] } : {}),
  };
}

/** Opens incidents (one per container, by signalWithStart) and forwards observations to open ones. */
export class IncidentStarter {
  constructor(
    private readonly client: Client,
    private readonly config: Config,
  ) {}

  workflowId(name: string): string {
    return incidentWorkflowId(this.config.host, name);
  }

  /** Start the container's incident, or signal it when one is already open. Returns the workflow id. */
  async open(container: ContainerRefInfo, observation: Observation): Promise<string> {
    const workflowId = this.workflowId(container.name);
    const input = incidentInputFrom(this.config, container, observation);
    await this.client.workflow.signalWithStart(INCIDENT_WORKFLOW_TYPE, {
      workflowId,
      taskQueue: this.config.temporal.taskQueue,
      args: [input],
      signal: observeSignal,
      signalArgs: [observation],
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      typedSearchAttributes: [
        { key: SA.container, value: container.name },
        { key: SA.host, value: this.config.host },
        ...(input.drill ? [{ key: SA.drill, value: input.drill }] : []),
      ],
      staticSummary: `${observation.kind} on ${container.name} (${this.config.host})`,
    });
    return workflowId;
  }

  /** Whether this container has an incident (open, or started at or after `sinceIso`). */
  async hasIncidentSince(name: string, sinceIso: string): Promise<boolean> {
    const id = this.workflowId(name).replace(/'/g, '');
    const query = `WorkflowId = '${id}' AND (ExecutionStatus = 'Running' OR StartTime >= '${new Date(sinceIso).toISOString()}')`;
    const { count } = await this.client.workflow.count(query);
    return count > 0;
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
