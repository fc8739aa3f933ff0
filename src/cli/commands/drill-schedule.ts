import type { Client } from '@temporalio/client';
import { ScheduleNotFoundError, ScheduleOverlapPolicy } from '@temporalio/client';
import type { Duration } from '@temporalio/common';
import type { Command } from 'commander';
import { loadConfig } from '../../config';
import type { Config } from '../../config';
import { connectTemporal } from '../../runtime/temporal';
import { CliError } from '../errors';
import { printJson, renderTable } from '../table';
import { selectScenarios } from '../drill-select';
import type { DrillInput } from '../../contract/drill';
import { DRILL_SCHEDULE_PREFIX, DRILL_WORKFLOW_TYPE } from '../../contract/drill';
import { SA } from '../../contract/search-attributes';
import { EXIT } from '../exit-codes';

/** `30m`, `6h`, `1d`: a Schedule interval of at least a minute (a drill takes a few). */
const EVERY = /^([1-9][0-9]{0,5})(m|h|d)$/;

export function parseEvery(value: string): Duration {
  if (!EVERY.test(value)) throw new CliError(`--every must be a number of minutes, hours or days, e.g. 30m, 6h, 1d (got ${JSON.stringify(value)})`, EXIT.badInput, 'invalid_argument');
  return value as Duration;
}

function scheduleId(config: Config, name: string | undefined): string {
  const id = `${DRILL_SCHEDULE_PREFIX}${name ?? config.host}`;
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,199}$/.test(id)) throw new CliError(`not a schedule name: ${JSON.stringify(name)} (letters, digits, . _ -)`, EXIT.badInput, 'invalid_argument');
  return id;
}

/** The full id from what the user typed (with or without the prefix). */
function fullId(id: string): string {
  return id.startsWith(DRILL_SCHEDULE_PREFIX) ? id : `${DRILL_SCHEDULE_PREFIX}${id}`;
}

async function withClient<T>(fn: (client: Client, config: Config) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const client = await connectTemporal(config);
  try {
    return await fn(client, config);
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) throw new CliError(`no such drill schedule (see \`dockmedic drill schedule list\`)`, EXIT.badInput, 'schedule_not_found');
    throw err;
  } finally {
    await client.connection.close();
  }
}

/**
 * `dockmedic drill schedule create|list|pause|resume|trigger|delete`: drills on a Temporal
 * Schedule (overlap SKIP: a drill never starts while the last one still runs). A scheduled drill
 * that fails pages like an incident about dockmedic itself.
 */
export function registerDrillSchedule(drill: Command): void {
  const schedule = drill.command('schedule').description('Run drills on a Temporal Schedule');

  schedule
    .command('create')
    .description('Create a Schedule that runs a drill at a fixed interval')
    .option('--every <interval>', 'interval: 30m, 6h, 1d', parseEvery, '6h')
    .option('--scenario <name...>', 'scenarios to run (default: the whole catalogue)')
    .option('--name <name>', `schedule name (id ${DRILL_SCHEDULE_PREFIX}<name>; default: this host)`)
    .option('--json', 'print JSON')
    .action(async (opts: { every: Duration; scenario?: string[]; name?: string; json?: boolean }) => {
      const scenarios = selectScenarios(opts.scenario ?? []);
      await withClient(async (client, config) => {
        const id = scheduleId(config, opts.name);
        const input: DrillInput = { host: config.host, scenarios, scheduled: true };
        await client.schedule.create({
          scheduleId: id,
          spec: { intervals: [{ every: opts.every }] },
          action: {
            type: 'startWorkflow',
            workflowType: DRILL_WORKFLOW_TYPE,
            workflowId: `drill-${config.host}-scheduled`,
            taskQueue: config.temporal.taskQueue,
            args: [input],
            typedSearchAttributes: [{ key: SA.host, value: config.host }],
          },
          policies: { overlap: ScheduleOverlapPolicy.SKIP },
          state: { note: `dockmedic drill every ${String(opts.every)}: ${scenarios.join(', ')}` },
        });
        if (opts.json) printJson({ scheduleId: id, every: opts.every, scenarios });
        else process.stdout.write(`created ${id}: a drill of ${scenarios.length} scenario(s) every ${String(opts.every)}\n`);
      });
    });

  schedule
    .command('list')
    .description("dockmedic's drill schedules")
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      await withClient(async (client) => {
        const rows = [];
        for await (const s of client.schedule.list()) {
          if (!s.scheduleId.startsWith(DRILL_SCHEDULE_PREFIX)) continue;
          rows.push({
            scheduleId: s.scheduleId,
            paused: s.state.paused,
            note: s.state.note ?? null,
            nextRun: s.info.nextActionTimes[0]?.toISOString() ?? null,
            lastRun: s.info.recentActions.at(-1)?.takenAt.toISOString() ?? null,
          });
        }
        if (opts.json) return printJson(rows);
        if (rows.length === 0) return void process.stdout.write('no drill schedules (create one: `dockmedic drill schedule create --every 6h`)\n');
        process.stdout.write(`${renderTable(['SCHEDULE', 'PAUSED', 'NEXT RUN', 'LAST RUN', 'NOTE'], rows.map((r) => [r.scheduleId, r.paused ? 'yes' : 'no', r.nextRun, r.lastRun, r.note]))}\n`);
      });
    });

  const simple: [string, string, (client: Client, id: string) => Promise<void>][] = [
    ['pause', 'Pause a drill schedule', (c, id) => c.schedule.getHandle(id).pause('paused with dockmedic drill schedule pause')],
    ['resume', 'Resume a paused drill schedule', (c, id) => c.schedule.getHandle(id).unpause('resumed with dockmedic drill schedule resume')],
    ['trigger', 'Run the schedule’s drill now (skipped if one is running)', (c, id) => c.schedule.getHandle(id).trigger(ScheduleOverlapPolicy.SKIP)],
    ['delete', 'Delete a drill schedule (running drills finish)', (c, id) => c.schedule.getHandle(id).delete()],
  ];
  for (const [name, description, run] of simple) {
    schedule
      .command(`${name} <schedule>`)
      .description(description)
      .option('--json', 'print JSON')
      .action(async (id: string, opts: { json?: boolean }) => {
        await withClient(async (client) => {
          const full = fullId(id);
          await run(client, full);
          if (opts.json) printJson({ scheduleId: full, done: name });
          else process.stdout.write(`${name}: ${full}\n`);
        });
      });
  }
}
