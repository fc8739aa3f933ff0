import type Docker from 'dockerode';
import type { ContainerInspectInfo } from 'dockerode';
import type { RequestContext } from './context';
import { timedDocker } from './context';
import { dockerRefusal } from './docker/docker-errors';
import { Refusal } from './refusal';
import { LABELS, bareName } from '../contract/container';

/**
 * Scope step: the target must exist, must not belong to the dockmedic stack, and must have
 * opted in with `dockmedic.enable=true`. A container the LLM invented ends here. Returns the
 * inspection so later steps (bounds, the inspect tool) use the same facts.
 */
export async function resolveInScope(docker: Docker, ctx: RequestContext, ref: string): Promise<ContainerInspectInfo> {
  let info: ContainerInspectInfo;
  try {
    info = await timedDocker(ctx, () => docker.getContainer(ref).inspect());
  } catch (err) {
    throw dockerRefusal(err, 'inspect');
  }
  ctx.target = { ref, id: info.Id, name: bareName(info.Name) };
  const labels = info.Config.Labels ?? {};
  if (LABELS.stack in labels) throw new Refusal('container_protected', 'the container belongs to the dockmedic stack and is never touched');
  if (labels[LABELS.enable] !== 'true') throw new Refusal('container_not_opted_in', `the container does not carry ${LABELS.enable}=true`);
  return info;
}
