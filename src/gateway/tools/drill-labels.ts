import type { ContainerInspectInfo } from 'dockerode';
import type { ToolEnv } from './tool';
import { LABELS, bareName } from '../../contract/container';
import type { DrillContainer, ScenarioName } from '../../contract/drill';
import { DRILL_HOST_LABEL, DRILL_LABEL, DRILL_SCENARIO_LABEL } from '../../contract/drill';

/** The labels a drill container is made with (docs/architecture.md §6): whose drill, which host, which scenario. */
export function drillLabels(env: ToolEnv, drillId: string, scenario: ScenarioName, optedIn: boolean): Record<string, string> {
  return {
    ...env.drill.labels,
    ...(optedIn ? { [LABELS.enable]: 'true' } : {}),
    [DRILL_LABEL]: drillId,
    [DRILL_HOST_LABEL]: env.drill.host,
    [DRILL_SCENARIO_LABEL]: scenario,
  };
}

/** Is this container the one this drill's create made (so a retried create may return it)? */
export function isOwnDrillContainer(info: ContainerInspectInfo, env: ToolEnv, drillId: string, scenario: ScenarioName): boolean {
  const l = info.Config.Labels ?? {};
  return l[DRILL_LABEL] === drillId && l[DRILL_HOST_LABEL] === env.drill.host && l[DRILL_SCENARIO_LABEL] === scenario;
}

export function drillContainerOf(info: ContainerInspectInfo, drillId: string, scenario: ScenarioName): DrillContainer {
  return { id: info.Id, name: bareName(info.Name), scenario, drillId, createdAt: info.Created };
}
