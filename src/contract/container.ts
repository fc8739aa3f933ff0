import { z } from 'zod';

/**
 * How containers and hosts are named everywhere: the gateway's argument checks, the activities'
 * pre-flight checks, the workflow input and the watcher all use these, so they cannot drift.
 */

/**
 * A Docker container name (bare, without the leading slash) or id: a hex id of 12–64 characters
 * is such a string too. Paths and shell metacharacters never match.
 */
export const CONTAINER_REF_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;

/** A Docker name or a hex id; anything else is refused before it reaches Docker. */
export const ContainerRef = z
  .string()
  .min(1)
  .max(128)
  .regex(CONTAINER_REF_PATTERN, 'not a container name or id')
  .refine((s) => !s.includes('..'), 'not a container name or id');

/** Whether `value` is a container reference the gateway would accept. */
export function isContainerRef(value: unknown): value is string {
  return ContainerRef.safeParse(value).success;
}

/** A `key=value` label pair, as DOCKMEDIC_WATCH_SELECTOR lists them. */
export const LABEL_PAIR_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.\/-]{0,127}=[A-Za-z0-9_.:\/-]{0,128}$/;
export const LabelPair = z.string().regex(LABEL_PAIR_PATTERN, 'expected a key=value label pair');

/** A host name as dockmedic records it (`DOCKMEDIC_HOST`, the `DockmedicHost` search attribute). */
export const HostName = z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/, 'expected a host name: letters, digits, _ . - (at most 63)');

/**
 * Docker reports names with a leading slash (`/web`) in inspect and events, and without one in
 * the CLI and labels. dockmedic always uses the bare name.
 */
export function bareName(name: string): string {
  return name.startsWith('/') ? name.slice(1) : name;
}

/** A name or id refers to the container `{ name, id }`: the same bare name, or a ≥ 12-character prefix of its id. */
export function refersTo(ref: string, container: { name: string; id: string }): boolean {
  const r = bareName(ref);
  if (r === bareName(container.name)) return true;
  return r.length >= 12 && container.id.toLowerCase().startsWith(r.toLowerCase());
}

export const LABELS = {
  /** Opt-in: only containers carrying `dockmedic.enable=true` are in scope. */
  enable: 'dockmedic.enable',
  /** Containers of the dockmedic stack itself are never touched. */
  stack: 'dockmedic.stack',
  /** Containers created by drills. */
  drill: 'dockmedic.drill',
  /** `dockmedic.depends-on=<name>[,<name>…]`: restarted after the named container (docs/architecture.md §3). */
  dependsOn: 'dockmedic.depends-on',
  /** Containers created by tests; removed by label at the start of every run. */
  test: 'dockmedic.test',
} as const;
