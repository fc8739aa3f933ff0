import { randomBytes } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { WorkflowFailedError } from '@temporalio/client';
import type { Command } from 'commander';
import { loadConfig } from '../../config';
import type { Config } from '../../config';
import { connectTemporal, workflowUiUrl } from '../../runtime/temporal';
import { drillHistory, progressLine, scorecardTable } from '../drill-view';
import { CliError } from '../errors';
import { positiveInt } from '../options';
import { printJson, renderTable } from '../table';
import { registerDrillSchedule } from './drill-schedule';
import { DRILL_EXIT, selectScenarios } from '../drill-select';
import type { DrillInput, DrillResult, ScenarioName } from '../../contract/drill';
import { DRILL_WORKFLOW_TYPE, SCENARIO_NAMES, drillProgressQuery, drillWorkflowId } from '../../contract/drill';
import { SA } from '../../contract/search-attributes';
import { scenario } from '../../drills/scenarios';

function newDrillId(): string {
  const t = new Date().toISOString().replace(/[-:T]/g, '').slice(2, 14);
  return `r${t}-${randomBytes(2).toString('hex')}`;
}

export function drillExitCode(r: DrillResult): number {
  return r.passed ? DRILL_EXIT.passed : r.skipped !== undefined ? DRILL_EXIT.skipped : DRILL_EXIT.failed;
}

/** Start a drill and follow it: a line on stderr whenever a scenario changes state. */
async function runDrill(config: Config, client: Client, scenarios: ScenarioName[], live: (line: string) => void): Promise<DrillResult> {
  const drillId = newDrillId();
  const input: DrillInput = { host: config.host, drillId, scenarios, scheduled: false };
  const workflowId = drillWorkflowId(config.host, drillId);
  const handle = await client.workflow.start(DRILL_WORKFLOW_TYPE, {
    workflowId,
    taskQueue: config.temporal.taskQueue,
    args: [input],
    typedSearchAttributes: [{ key: SA.host, value: config.host }],
    staticSummary: `drill of ${scenarios.length} scenario(s) on ${config.host}`,
  });
  live(`drill ${drillId} started on ${config.host}: ${scenarios.join(', ')}`);
  live(`Temporal UI: ${workflowUiUrl(config, workflowId)}`);

  // Ctrl-C cancels the drill: its cleanup removes the containers before it ends.
  let interrupted = false;
  const onSigint = () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    live('interrupted: cancelling the drill (its containers are removed); Ctrl-C again to leave at once');
    void handle.cancel().catch(() => undefined);
  };
  process.on('SIGINT', onSigint);
  const shown = new Map<string, string>();
  const poll = setInterval(() => {
    void handle
      .query(drillProgressQuery)
      .then((r) => {
        for (const c of r.cards) {
          const line = progressLine(c);
          if (shown.get(c.scenario) !== line && c.status !== 'pending') {
            shown.set(c.scenario, line);
            live(line);
          }
        }
      })
      .catch(() => undefined);
  }, 1000);
  try {
    return (await handle.result()) as DrillResult;
  } catch (err) {
    if (err instanceof WorkflowFailedError) throw new CliError(`the drill ${interrupted ? 'was cancelled' : 'failed'}: ${err.cause?.message ?? err.message} (its containers were removed)`, DRILL_EXIT.failed);
    throw err;
  } finally {
    clearInterval(poll);
    process.off('SIGINT', onSigint);
  }
}

/** `dockmedic drill run|history|schedule …` (docs/architecture.md §6). */
export function registerDrill(program: Command): void {
  const drill = program
    .command('drill')
    .description('Break real containers on purpose and check, by effect, that dockmedic fixes them (or rightly does not)');

  drill
    .command('run [scenario...]')
    .description(`Run drill scenarios (default: the whole catalogue: ${SCENARIO_NAMES.join(', ')}) and print the scorecard`)
    .option('--json', 'print the drill result as JSON on stdout (progress still goes to stderr)')
    .addHelpText('after', '\nExit codes: 0 every scenario passed, 1 some failed, 2 bad input, 4 skipped (another drill or a real incident is open on this host).\nNeeds dockmedic running (`dockmedic up` or `make run`): a worker, the watcher and the gateway.')
    .action(async (names: string[], opts: { json?: boolean }) => {
      const scenarios = selectScenarios(names);
      const config = loadConfig();
      const client = await connectTemporal(config);
      try {
        const r = await runDrill(config, client, scenarios, (l) => process.stderr.write(`${l}\n`));
        if (opts.json) printJson({ ...r, uiUrl: workflowUiUrl(config, drillWorkflowId(r.host, r.drillId)), incidents: incidentLinks(config, r) });
        else {
          process.stdout.write(`${scorecardTable(r)}\n\n`);
          const passed = r.cards.filter((c) => c.status === 'passed').length;
          process.stdout.write(`${r.skipped ? `skipped: ${r.skipped}\n` : ''}${passed}/${r.cards.length} passed\n`);
          for (const { scenario, url } of incidentLinks(config, r)) process.stdout.write(`  ${scenario.padEnd(21)} ${url}\n`);
        }
        process.exitCode = drillExitCode(r);
      } finally {
        await client.connection.close();
      }
    });

  drill
    .command('history')
    .description('Past drills on this host, newest first: pass/fail per drill and median MTTR')
    .option('--limit <n>', 'at most this many (≥ 1)', positiveInt('--limit'), 20)
    .option('--json', 'print JSON (an array, each with its full scorecard)')
    .action(async (opts: { limit: number; json?: boolean }) => {
      const config = loadConfig();
      const client = await connectTemporal(config);
      try {
        const rows = await drillHistory(client, config.host, opts.limit);
        if (opts.json) return printJson(rows);
        if (rows.length === 0) return void process.stdout.write('no drills yet (run `dockmedic drill run`)\n');
        process.stdout.write(
          `${renderTable(
            ['DRILL', 'STARTED', 'STATUS', 'RESULT', 'MTTR p50', 'BY'],
            rows.map((r) => [
              r.workflowId,
              r.startedAt,
              r.status.toLowerCase(),
              r.result ? (r.skipped ? `skipped: ${r.skipped}` : `${r.passed}/${r.result.cards.length} passed${r.failed ? ` (${r.result.cards.filter((c) => c.status === 'failed').map((c) => c.scenario).join(', ')} failed)` : ''}`) : '-',
              r.mttrMedianMs !== null ? `${r.mttrMedianMs} ms` : '-',
              r.scheduled ? 'schedule' : 'cli',
            ]),
          )}\n`,
        );
      } finally {
        await client.connection.close();
      }
    });

  registerDrillSchedule(drill);
}

function incidentLinks(config: Config, r: DrillResult): { scenario: string; url: string }[] {
  return r.cards.flatMap((c) => (c.incidentId && scenario(c.scenario).expect.incident ? [{ scenario: c.scenario, url: workflowUiUrl(config, c.incidentId) }] : []));
}

