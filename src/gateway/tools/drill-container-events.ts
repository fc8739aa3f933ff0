import type { Readable } from 'node:stream';
import { createInterface } from 'node:readline';
import { timedDocker } from '../context';
import { dockerRefusal } from '../docker/docker-errors';
import { defineTool } from './tool';
import type { DrillEvent } from '../../contract/drill';
import { DRILL_EVENTS_MAX, DrillContainerEventsArgs } from '../../contract/drill';

function toDrillEvent(raw: unknown): DrillEvent | null {
  const e = raw as { Action?: unknown; timeNano?: unknown; Actor?: { Attributes?: Record<string, unknown> } } | null;
  if (typeof e?.Action !== 'string' || typeof e.timeNano !== 'number') return null;
  // A double holds nanoseconds since 1970 to within a few hundred ns: enough for MTTR in ms.
  const timeNano = BigInt(Math.round(e.timeNano)).toString();
  const exit = e.Actor?.Attributes?.exitCode;
  return {
    action: e.Action,
    timeNano,
    time: new Date(Number(BigInt(timeNano) / 1_000_000n)).toISOString(),
    ...(typeof exit === 'string' && /^\d+$/.test(exit) ? { exitCode: Number(exit) } : {}),
  };
}

/**
 * Read-only: a drill container's Docker events from `since` until now, with Docker's own times —
 * the drill's MTTR is measured from these, not from any dockmedic clock (docs/architecture.md §6).
 */
export const drillContainerEvents = defineTool({
  name: 'drill_container_events',
  description: "Docker's own events of one of this host's drill containers since a time, oldest first.",
  schema: DrillContainerEventsArgs,
  mutating: false,
  target: 'drill',
  execute: async (args, target, _plan, env) => {
    const since = Date.parse(args.since) / 1000;
    const until = Date.now() / 1000;
    const events: DrillEvent[] = [];
    try {
      const stream = (await timedDocker(env.ctx, () =>
        env.docker.getEvents({
          since: since.toFixed(3) as unknown as number,
          until: until.toFixed(3) as unknown as number,
          filters: { type: ['container'], container: [target.Id] },
        }),
      )) as unknown as Readable;
      for await (const line of createInterface({ input: stream, crlfDelay: Infinity })) {
        if (!line.trim()) continue;
        const ev = toDrillEvent(JSON.parse(line));
        if (ev) events.push(ev);
        if (events.length >= DRILL_EVENTS_MAX) {
          stream.destroy();
          break;
        }
      }
    } catch (err) {
      throw dockerRefusal(err, 'events');
    }
    return { result: { events, truncated: events.length >= DRILL_EVENTS_MAX }, summary: { events: events.length } };
  },
});
