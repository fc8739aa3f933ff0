import type { Command } from 'commander';
import { loadConfig } from '../../config';
import { connectTemporal } from '../../runtime/temporal';
import { incidentDetail } from '../incident-detail';
import { listIncidents, NO_WORKER } from '../incident-view';
import { printJson, renderTable } from '../table';
import { positiveInt } from '../options';
import type { IncidentState } from '../../contract/incident';
import type { StormState } from '../../contract/storm';

function short(value: unknown, max = 80): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  if (text === undefined) return '-';
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function renderState(state: IncidentState, uiUrl: string): string {
  const out: string[] = [];
  const d = state.decision;
  out.push(`incident   ${state.incidentId}`);
  const storm = (state as Partial<StormState>).storm;
  out.push(storm ? `storm      ${storm.members.length} incidents on ${state.host}` : `container  ${state.container} (${state.containerId.slice(0, 12)}) on ${state.host}`);
  out.push(`phase      ${state.phase}${state.outcome ? `   outcome ${state.outcome}` : ''}`);
  out.push(`started    ${state.startedAt}${state.closedAt ? `   closed ${state.closedAt}` : ''}`);
  if (state.wouldDo) {
    const w = state.wouldDo;
    out.push('', 'shadow mode (nothing was done)', `  would    ${w.page ? `page ${w.page.levelName}` : w.action}`);
    for (const c of w.calls) out.push(`  call     ${c.tool} ${JSON.stringify(c.args)}`);
  }
  if (state.stormId) out.push('', `storm      ${state.stormId} (this incident pages through it; \`dockmedic incidents show ${state.stormId}\`)`);
  if (storm) {
    out.push('', 'members');
    out.push(
      ...renderTable(
        ['container', 'failure', 'status', 'done', 'incident'],
        storm.members.map((m) => [m.container, m.report?.failure ?? '-', m.report?.outcome ?? m.report?.status ?? 'no report', short(m.report?.done ?? '-', 50), m.workflowId]),
      )
        .split('\n')
        .map((l) => `  ${l}`),
    );
  }
  if (state.quietAfter) {
    const q = state.quietAfter;
    out.push('', 'quiet period (not paged, nothing done)', `  after    ${q.workflowId} run ${q.runId}`, `  which    ${q.failure}, closed ${q.outcome} at ${q.closedAt}`);
  }
  if (d) {
    out.push('', 'decision');
    out.push(`  failure  ${d.failure}`, `  rule     ${d.rule}`, `  action   ${d.action}${d.newMemoryBytes ? ` (memory → ${d.newMemoryBytes} bytes)` : ''}`, `  why      ${d.reason}`);
    if (state.finalAction && state.finalAction !== d.action) out.push(`  final    ${state.finalAction}`);
  }
  if (state.proposal) {
    const p = state.proposal;
    out.push('', 'model proposal (advice only)');
    out.push(`  action   ${p.proposedAction} (failure ${p.failureType}, confidence ${p.confidence})`, `  why      ${short(p.rationale, 200)}`);
    for (const e of p.evidence.slice(0, 5)) out.push(`  evidence ${short(e, 120)}`);
  }
  if (state.disagreement) {
    const g = state.disagreement;
    const why = state.diagnosis?.disregarded
      ? `the proposal was not weighed: ${state.diagnosis.disregarded}`
      : g.final === g.policy
        ? "the policy's decision stands (the model can only make a decision more conservative)"
        : 'a person decides: the model can only make a decision more conservative';
    out.push('', `disagreement: policy said ${g.policy}, model proposed ${g.model}; final action ${g.final}`, `  why      ${short(why, 300)}`);
  }
  if (state.diagnosis) {
    const d = state.diagnosis;
    const calls = d.toolCalls.map((c) => `${c.tool}${c.container ? `(${c.container})` : ''}${c.executed ? '' : ` refused ${c.refusal ?? ''}`}`).join(', ');
    out.push('', `model diagnosis (${d.model}): ${d.ok ? 'proposal' : `no proposal (${d.reason ?? '?'}${d.detail ? `: ${short(d.detail, 160)}` : ''})`}; ${d.turns} turns, ${d.tokens} tokens`);
    if (calls) out.push(`  tools    ${short(calls, 300)}`);
  }
  if (state.facts) {
    out.push('', 'facts (from Docker)');
    for (const [k, v] of Object.entries(state.facts)) out.push(`  ${k.padEnd(22)} ${short(v)}`);
  }
  out.push('', 'decision chain');
  if (state.decisionChain.length === 0) out.push('  (no tool calls)');
  out.push(
    ...renderTable(
      ['time', 'tool', 'arguments', 'result'],
      state.decisionChain.map((c) => [
        c.at,
        c.tool + (c.approvedBy ? ` (approved by ${c.approvedBy})` : ''),
        short(c.args, 60),
        c.ok ? short(c.result, 60) : `refused ${c.error?.code ?? ''}`,
      ]),
    )
      .split('\n')
      .map((l) => `  ${l}`),
  );
  if (state.pendingEscalation) {
    const p = state.pendingEscalation;
    out.push('', `waiting for: ${p.waitingFor.join(' | ')} (level ${p.level} ${p.levelName} since ${p.since}); proposed action ${p.proposedAction}`);
  }
  if (state.responses.length) {
    out.push('', 'responses');
    for (const r of state.responses) out.push(`  ${r.at}  ${r.action} by ${r.by}${r.comment ? `: ${short(r.comment, 120)}` : ''}`);
  }
  if (state.notes.length) {
    out.push('', 'notes');
    for (const n of state.notes) out.push(`  ${short(n, 160)}`);
  }
  out.push('', `Temporal UI: ${uiUrl}`);
  return out.join('\n');
}

/** `dockmedic incidents list|show`. */
export function registerIncidents(program: Command): void {
  const incidents = program.command('incidents').description('List and inspect incidents (from Temporal)');

  incidents
    .command('list')
    .description('List incidents: open ones first, then the most recently closed')
    .option('--open', 'only incidents still open')
    .option('--container <name>', 'only incidents of this container')
    .option('--limit <n>', 'at most this many (≥ 1)', positiveInt('--limit'), 50)
    .option('--drills', "include drills' incidents (hidden by default)")
    .option('--json', 'print JSON (an array of objects)')
    .action(async (opts: { open?: boolean; container?: string; limit: number; drills?: boolean; json?: boolean }) => {
      const config = loadConfig();
      const client = await connectTemporal(config);
      try {
        const { rows, unanswered } = await listIncidents(client, opts);
        if (unanswered) process.stderr.write(`warning: ${unanswered} open incident(s) show phase unknown: ${NO_WORKER}\n`);
        if (opts.json) return printJson(rows);
        if (rows.length === 0) return void process.stdout.write(opts.open ? 'no open incidents\n' : 'no incidents\n');
        process.stdout.write(
          `${renderTable(
            ['ID', 'CONTAINER', 'FAILURE', 'DECISION', 'PHASE', 'OUTCOME', 'STARTED', 'CLOSED'],
            rows.map((r) => [r.id, r.container, r.failure, r.decision, r.phase, r.outcome, r.startedAt, r.closedAt]),
          )}\n`,
        );
      } finally {
        await client.connection.close();
      }
    });

  incidents
    .command('show <id>')
    .description('Show one incident: facts, decision, rule, decision chain, responses')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { json?: boolean }) => {
      const config = loadConfig();
      const client = await connectTemporal(config);
      try {
        const { detail, summary, state, note, uiUrl: ui } = await incidentDetail(client, config, id);
        if (!state) {
          process.stderr.write(`note: ${note ?? ''}\n`);
          if (opts.json) return printJson(detail);
          return void process.stdout.write(
            `incident   ${summary.id}\ncontainer  ${summary.container ?? '-'} on ${summary.host ?? '-'}\nstatus     ${summary.status}   failure ${summary.failure ?? '-'}   decision ${summary.decision ?? '-'}   outcome ${summary.outcome ?? '-'}\nstarted    ${summary.startedAt}${summary.closedAt ? `   closed ${summary.closedAt}` : ''}\n\nTemporal UI: ${ui}\n`,
          );
        }
        if (opts.json) return printJson(detail);
        process.stdout.write(`${renderState(state, ui)}\n`);
      } finally {
        await client.connection.close();
      }
    });
}
