import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { Client } from '@temporalio/client';
import { loadConfig } from '../../config';
import { createLog } from '../../runtime/log';
import { connectTemporal } from '../../runtime/temporal';
import { routeTemporalLogs } from '../../runtime/temporal-logging';
import { WORKFLOWS_PATH } from '../../runtime/workflows-path';
import { replayHistories } from '../../replay/determinism';
import { configWithEnvFile, EnvFileError } from '../../replay/env-file';
import type { IncidentHistory, IncidentSelection } from '../../replay/incident-histories';
import { fetchHistories, listClosedIncidents } from '../../replay/incident-histories';
import { isRecorded, recordedDecision } from '../../replay/recorded';
import { parseSince } from '../../replay/since';
import { changedSettings, groupChanges, reDecide } from '../../replay/what-if';
import { INCIDENT_WORKFLOW_TYPE } from '../../contract/incident';
import { CliError } from '../errors';
import { printJson } from '../table';
import { EXIT } from '../exit-codes';

/**
 * Exit codes: a script (a deploy gate) must tell "a history no longer replays" from "the command
 * was used wrongly" and from "nothing could be checked".
 */
export const REPLAY_EXIT = { ok: EXIT.ok, failed: EXIT.failed, badInput: EXIT.badInput, unavailable: EXIT.unavailable } as const;

interface ReplayOptions {
  since?: string;
  id?: string;
  host?: string;
  workflows?: string;
  whatIf?: string;
  json?: boolean;
}

const badInput = (message: string): CliError => new CliError(message, REPLAY_EXIT.badInput, 'invalid_argument');

/** Temporal could not be asked (down, refused, timed out): nothing was checked. */
async function fromTemporal<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`nothing was checked: ${(err as Error).message}`, REPLAY_EXIT.unavailable, 'temporal_unavailable');
  }
}

/** Progress for long runs, on stderr (stdout stays the report): at most one line a second, and the last. */
function progress(what: string, total: number): (done: number) => void {
  let last = 0;
  return (done) => {
    const now = Date.now();
    if (done < total && now - last < 1_000) return;
    last = now;
    process.stderr.write(`replay: ${what} ${done}/${total}\n`);
  };
}

/** The selection from the options; without --id the window defaults to the last 7 days. */
function selection(opts: ReplayOptions): IncidentSelection & { sinceText: string | null } {
  const sinceText = opts.since ?? (opts.id ? null : '7d');
  const sel: IncidentSelection & { sinceText: string | null } = { sinceText };
  if (sinceText !== null) {
    const since = parseSince(sinceText);
    if (typeof since === 'string') throw badInput(since);
    sel.since = since;
  }
  if (opts.id !== undefined) {
    if (!/^[\w.@:-]{1,255}$/.test(opts.id)) throw badInput(`--id ${JSON.stringify(opts.id)}: expected a workflow id such as incident-<host>-<container>`);
    sel.id = opts.id;
  }
  if (opts.host !== undefined) {
    if (!/^[\w.-]{1,255}$/.test(opts.host)) throw badInput(`--host ${JSON.stringify(opts.host)}: expected a host name`);
    sel.host = opts.host;
  }
  return sel;
}

/** The workflow module to replay against: the worker's own, or one given to check before deploying it. */
function workflowsModule(path: string | undefined): string {
  if (path === undefined) return WORKFLOWS_PATH;
  const abs = resolve(path);
  if (!existsSync(abs)) throw badInput(`--workflows ${path}: no such file or directory`);
  try {
    return require.resolve(abs);
  } catch {
    throw badInput(`--workflows ${path}: not a JavaScript module (give the compiled workflows file, e.g. dist/workflows/index.js)`);
  }
}

async function closedHistories(client: Client, sel: IncidentSelection & { sinceText: string | null }): Promise<IncidentHistory[]> {
  const infos = await listClosedIncidents(client, sel);
  if (infos.length === 0 && sel.id) {
    const open = await client.workflow.count(`WorkflowType = '${INCIDENT_WORKFLOW_TYPE}' AND WorkflowId = '${sel.id}'`);
    throw badInput(
      open.count > 0
        ? `incident ${sel.id} has no closed run${sel.sinceText ? ` since ${sel.sinceText}` : ''} (only closed incidents are replayed)`
        : `no incident with id ${sel.id} (see \`dockmedic incidents list\`)`,
    );
  }
  if (infos.length > 0) process.stderr.write(`replay: ${infos.length} closed incident run(s)${sel.sinceText ? ` since ${sel.sinceText}` : ''}: downloading histories\n`);
  return fetchHistories(client, infos, progress('downloaded', infos.length));
}

function scope(sel: IncidentSelection & { sinceText: string | null }): string {
  return [sel.id ? `of ${sel.id}` : '', sel.host ? `on host ${sel.host}` : '', sel.sinceText ? `since ${sel.sinceText}` : ''].filter(Boolean).join(' ');
}

async function determinism(histories: IncidentHistory[], sel: IncidentSelection & { sinceText: string | null }, workflowsPath: string, json: boolean): Promise<void> {
  if (histories.length > 0) {
    // SDK and bundler output goes to stderr as log lines, at WARN and above, not between report
    // lines. Only when something is replayed: the runtime it installs keeps the process alive
    // until a worker (the replayer) has run and ended.
    await routeTemporalLogs(createLog('replay'));
    process.stderr.write(`replay: bundling ${workflowsPath} and replaying\n`);
  }
  let verdicts: Awaited<ReturnType<typeof replayHistories>>;
  try {
    verdicts = await replayHistories(histories, workflowsPath, progress('replayed', histories.length));
  } catch (err) {
    // The SDK bundles the module before the first replay: a module that is not workflow code fails here.
    throw new CliError(`${workflowsPath} could not be loaded as workflow code: ${(err as Error).message}`, workflowsPath === WORKFLOWS_PATH ? REPLAY_EXIT.unavailable : REPLAY_EXIT.badInput);
  }
  const failed = verdicts.filter((v) => !v.ok);
  if (json) {
    printJson({ workflowsPath, since: sel.since?.toISOString() ?? null, id: sel.id ?? null, host: sel.host ?? null, total: verdicts.length, passed: verdicts.length - failed.length, failed: failed.length, results: verdicts });
  } else {
    for (const v of failed) process.stdout.write(`FAIL  ${v.workflowId}  ${v.runId}  ${v.kind}: ${v.error}\n`);
    process.stdout.write(
      verdicts.length === 0
        ? `no closed incidents ${scope(sel)}: nothing to replay\n`
        : `replayed ${verdicts.length} closed incident run(s) ${scope(sel)} against ${workflowsPath}: ${verdicts.length - failed.length} ok, ${failed.length} failed\n`,
    );
  }
  process.exitCode = failed.length > 0 ? REPLAY_EXIT.failed : REPLAY_EXIT.ok;
}

function whatIf(histories: IncidentHistory[], sel: IncidentSelection & { sinceText: string | null }, envFile: string, json: boolean, policy: ReturnType<typeof loadConfig>['policy'], overrides: Record<string, string>): void {
  const read = histories.map(recordedDecision);
  const records = read.filter(isRecorded);
  const skipped = read.filter((r) => !isRecorded(r));
  const verdicts = records.map((r) => reDecide(r, policy));
  const groups = groupChanges(verdicts);
  const settings = changedSettings(records, policy);
  const changed = verdicts.filter((v) => v.changed);
  if (json) {
    printJson({ envFile, overrides: Object.keys(overrides), since: sel.since?.toISOString() ?? null, id: sel.id ?? null, host: sel.host ?? null, policy, settings, total: histories.length, redecided: verdicts.filter((v) => v.whatIf).length, changed: changed.length, groups, incidents: verdicts, notRedecided: skipped });
    return;
  }
  const out: string[] = [];
  if (settings.length === 0) out.push(`no policy setting differs from what these incidents were decided under (${envFile} sets ${Object.keys(overrides).join(', ') || 'nothing'})`);
  for (const s of settings) out.push(`setting  ${s.variable}  ${s.recorded.join(' | ')} → ${s.whatIf}`);
  for (const g of groups) {
    out.push('', g.sentence);
    for (const v of changed.filter((c) => c.failure === g.failure && c.recorded.action === g.from && c.whatIf?.action === g.to)) {
      const fmt = (d: { action: string; rule: string; newMemoryBytes?: number }) => `${d.action}${d.newMemoryBytes !== undefined ? ` to ${d.newMemoryBytes} bytes` : ''} (${d.rule})`;
      out.push(`  ${v.workflowId}  ${v.runId}  ${v.step === 0 ? '' : `decision ${v.step}: `}${fmt(v.recorded)} → ${v.whatIf ? fmt(v.whatIf) : '-'}`);
    }
  }
  const notRedecided = skipped.length + verdicts.filter((v) => !v.whatIf).length;
  out.push(
    '',
    histories.length === 0
      ? `no closed incidents ${scope(sel)}: nothing to re-decide`
      : `re-decided ${verdicts.length - verdicts.filter((v) => !v.whatIf).length} of ${histories.length} closed incident run(s) ${scope(sel)}: ${changed.length} would change${notRedecided ? `; ${notRedecided} not re-decided (--json says why)` : ''}`,
  );
  process.stdout.write(`${out.join('\n')}\n`);
}

/** `dockmedic replay [--since …] [--id ID] [--host H] [--workflows FILE] [--what-if ENV_FILE] [--json]`. */
export function registerReplay(program: Command): void {
  program
    .command('replay')
    .description(
      'Check workflow code against past incidents before deploying it: download closed incident histories from Temporal and replay them ' +
        '(exit 0 all replay, 1 some no longer replay, 2 bad input, 3 Temporal unavailable). With --what-if, re-decide them from their recorded facts under other policy settings instead',
    )
    .option('--since <when>', 'closed within this window (90s, 30m, 24h, 7d, 2w) or since an ISO-8601 time; default 7d, or all runs with --id')
    .option('--id <workflowId>', 'only the closed runs of this incident (workflow id, as `incidents list` shows)')
    .option('--host <name>', 'only incidents of this host (DockmedicHost)')
    .option('--workflows <file>', "replay against this compiled workflows module instead of the worker's own (e.g. a new build's dist/workflows/index.js)")
    .option('--what-if <envFile>', 'KEY=VALUE lines over the current environment (same schema as start-up): list the incidents whose policy decision would change')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  dockmedic replay                       # every incident closed in the last 7 days\n  dockmedic replay --id incident-web1-api --json\n  dockmedic replay --workflows ../next/dist/workflows/index.js\n  echo DOCKMEDIC_MEMORY_MAX_FACTOR=1.5 > lower-cap.env && dockmedic replay --what-if lower-cap.env',
    )
    .action(async (opts: ReplayOptions) => {
      const sel = selection(opts);
      const config = loadConfig();
      let whatIfConfig: { config: ReturnType<typeof loadConfig>; overrides: Record<string, string> } | undefined;
      if (opts.whatIf !== undefined) {
        if (opts.workflows !== undefined) throw badInput('--what-if re-decides with the policy, not the workflow code: leave out --workflows');
        try {
          whatIfConfig = configWithEnvFile(opts.whatIf);
        } catch (err) {
          if (err instanceof EnvFileError) throw badInput(err.message);
          throw err;
        }
      }
      const workflowsPath = whatIfConfig ? WORKFLOWS_PATH : workflowsModule(opts.workflows);
      const client = await fromTemporal(() => connectTemporal(config));
      try {
        const histories = await fromTemporal(() => closedHistories(client, sel));
        if (whatIfConfig) whatIf(histories, sel, opts.whatIf as string, opts.json === true, whatIfConfig.config.policy, whatIfConfig.overrides);
        else await determinism(histories, sel, workflowsPath, opts.json === true);
      } finally {
        await client.connection.close();
      }
    });
}
