import type { ContainerInfo, ContainerInspectInfo } from 'dockerode';
import { timedDocker } from '../context';
import { dockerRefusal } from '../docker/docker-errors';
import { defineTool } from './tool';
import { LABELS, bareName, refersTo } from '../../contract/container';
import type { Dependent, DependencyKind, DependentsResult } from '../../contract/gateway';
import { DEPENDENTS_MAX, ListDependentsArgs } from '../../contract/gateway';

/**
 * The containers that depend on `target` (docs/architecture.md §3): those sharing its network
 * namespace (`HostConfig.NetworkMode` = `container:<id or name>`; Docker stores the id) and those
 * labelled `dockmedic.depends-on=<its name>` (a comma-separated list may name several). Sorted by
 * name, so the workflow restarts them in a stable order. Direct dependents only.
 */
export function dependentsOf(target: { id: string; name: string }, list: readonly ContainerInfo[], selector: readonly string[]): DependentsResult {
  const found: Dependent[] = [];
  for (const c of list) {
    if (c.Id === target.id) continue;
    const via: DependencyKind[] = [];
    const mode = c.HostConfig?.NetworkMode ?? '';
    if (mode.startsWith('container:') && refersTo(mode.slice('container:'.length), target)) via.push('network');
    const named = (c.Labels?.[LABELS.dependsOn] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    if (named.some((n) => refersTo(n, target))) via.push('label');
    if (via.length === 0) continue;
    found.push({ id: c.Id, name: bareName(c.Names?.[0] ?? c.Id), via, optedIn: optedIn(c.Labels ?? {}, selector) });
  }
  found.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { container: target.name, dependents: found.slice(0, DEPENDENTS_MAX), truncated: found.length > DEPENDENTS_MAX };
}

/** The watcher's own rule (src/watcher/classify.ts `watchedLabels`), and never the dockmedic stack. */
function optedIn(labels: Record<string, string>, selector: readonly string[]): boolean {
  if (labels[LABELS.enable] !== 'true' || LABELS.stack in labels) return false;
  return selector.every((pair) => {
    const eq = pair.indexOf('=');
    return labels[pair.slice(0, eq)] === pair.slice(eq + 1);
  });
}

/** Read-only: who must be restarted after this container is restarted or started. Scope checked the container itself. */
export const listDependents = defineTool({
  name: 'list_dependents',
  description: 'Containers sharing an opted-in container’s network namespace or labelled dockmedic.depends-on=<its name>, with whether each is opted in.',
  schema: ListDependentsArgs,
  mutating: false,
  execute: async (args, target: ContainerInspectInfo, _plan, env) => {
    let list: ContainerInfo[];
    try {
      list = await timedDocker(env.ctx, () => env.docker.listContainers({ all: true }));
    } catch (err) {
      throw dockerRefusal(err, 'list');
    }
    const result = dependentsOf({ id: target.Id, name: bareName(target.Name) }, list, args.selector);
    return {
      result,
      summary: { dependents: result.dependents.map((d) => `${d.name}:${d.via.join('+')}${d.optedIn ? '' : ':not_opted_in'}`), truncated: result.truncated },
    };
  },
});
