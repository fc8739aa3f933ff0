import type Docker from 'dockerode';
import type { ContainerInspectInfo } from 'dockerode';
import type { RequestContext } from './context';
import { timedDocker } from './context';
import { dockerRefusal } from './docker/docker-errors';
import { Refusal } from './refusal';
import { LABELS, bareName } from '../contract/container';
import { DRILL_HOST_LABEL, DRILL_LABEL } from '../contract/drill';

/**
 * Scope step: the target must exist, must not belong to the dockmedic stack, and must have
 * opted in with `dockmedic.enable=true`. A container the LLM invented ends here. Returns the
 * inspection so later steps (bounds, the inspect tool) use the same facts.
 */
export async function resolveInScope(docker: Docker, ctx: RequestContext, ref: string): Promise<ContainerInspectInfo> {
  const info = await inspectTarget(docker, ctx, ref);
  const labels = info.Config.Labels ?? {};
  if (labels[LABELS.enable] !== 'true') throw new Refusal('container_not_opted_in', `the container does not carry ${LABELS.enable}=true`);
  return info;
}

/**
 * Scope step of the drill tools (docs/architecture.md §6): the target must be a drill container
 * this gateway's host made. Opt-in is not required (the not-opted-in scenario must be removable);
 * anything else — a real container, another host's drill — is refused before anything runs.
 */
export async function resolveDrillTarget(docker: Docker, ctx: RequestContext, ref: string, host: string): Promise<ContainerInspectInfo> {
  const info = await inspectTarget(docker, ctx, ref);
  requireDrill(info, host);
  return info;
}

export function isDrillContainer(info: ContainerInspectInfo): boolean {
  return DRILL_LABEL in (info.Config.Labels ?? {});
}

/** The drill label and this host's drill-host label, or not_a_drill_container. */
export function requireDrill(info: ContainerInspectInfo, host: string): void {
  const labels = info.Config.Labels ?? {};
  if (!labels[DRILL_LABEL] || labels[DRILL_HOST_LABEL] !== host) {
    throw new Refusal('not_a_drill_container', `the container does not carry ${DRILL_LABEL} and ${DRILL_HOST_LABEL}=${host}: only this host's drill containers`);
  }
}

async function inspectTarget(docker: Docker, ctx: RequestContext, ref: string): Promise<ContainerInspectInfo> {
  let info: ContainerInspectInfo;
  try {
    info = await timedDocker(ctx, () => docker.getContainer(ref).inspect());
  } catch (err) {
    throw dockerRefusal(err, 'inspect');
  }
  ctx.target = { ref, id: info.Id, name: bareName(info.Name) };
  if (LABELS.stack in (info.Config.Labels ?? {})) throw new Refusal('container_protected', 'the container belongs to the dockmedic stack and is never touched');
  return info;
}
