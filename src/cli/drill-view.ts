import type { Client } from '@temporalio/client';
import { defineSearchAttributeKey } from '@temporalio/common';
import type { DrillResult, ScenarioCard } from '../contract/drill';
import { DRILL_WORKFLOW_TYPE } from '../contract/drill';
import { SA } from '../contract/search-attributes';
import { renderTable } from './table';

/** Temporal's own attribute on a workflow a Schedule started. */
const SCHEDULED_BY = defineSearchAttributeKey('TemporalScheduledById', 'KEYWORD');

/** One card as a live progress line: `drill  oom  passed  1032 ms  raise_memory as expected…`. */
export function progressLine(c: ScenarioCard): string {
  const mttr = c.mttrMs !== undefined ? `  MTTR ${c.mttrMs} ms` : '';
  return `drill  ${c.scenario.padEnd(21)} ${c.status.padEnd(8)}${mttr}${c.why && c.status !== 'running' ? `  ${c.why}` : ''}`;
}

export function scorecardTable(r: DrillResult): string {
  return renderTable(
    ['SCENARIO', 'RESULT', 'MTTR', 'EXPECTED', 'OBSERVED', 'WHY'],
    r.cards.map((c) => [c.scenario, c.status === 'passed' ? 'pass' : c.status === 'failed' ? 'FAIL' : c.status, c.mttrMs !== undefined ? `${c.mttrMs} ms` : '-', c.expected, c.observed, c.why]),
  );
}

/** Median, for the MTTR column of `drill history`. */
export function median(values: number[]): number | undefined {
  if (values.length === 0) return undefined;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : Math.round(((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2);
}

/** One row of `drill history --json`. */
export interface DrillHistoryRow {
  workflowId: string;
  runId: string;
  status: string;
  startedAt: string;
  closedAt: string | null;
  scheduled: boolean;
  /** null while running or when the result cannot be read. */
  result: DrillResult | null;
  passed: number;
  failed: number;
  skipped: string | null;
  mttrMedianMs: number | null;
}

/** Past drills on the host, newest first, with their scorecards. */
export async function drillHistory(client: Client, host: string, limit: number): Promise<DrillHistoryRow[]> {
  const q = `WorkflowType = '${DRILL_WORKFLOW_TYPE}' AND ${SA.host.name} = '${host.replace(/'/g, '')}'`;
  const rows: DrillHistoryRow[] = [];
  for await (const info of client.workflow.list({ query: q })) {
    let result: DrillResult | null = null;
    if (info.status.name === 'COMPLETED') {
      try {
        result = (await client.workflow.getHandle(info.workflowId, info.runId).result()) as DrillResult;
      } catch {
        result = null;
      }
    }
    const cards = result?.cards ?? [];
    const mttr = median(cards.flatMap((c) => (c.mttrMs !== undefined ? [c.mttrMs] : [])));
    rows.push({
      workflowId: info.workflowId,
      runId: info.runId,
      status: info.status.name,
      startedAt: info.startTime.toISOString(),
      closedAt: info.closeTime?.toISOString() ?? null,
      scheduled: info.typedSearchAttributes.get(SCHEDULED_BY) !== undefined,
      result,
      passed: cards.filter((c) => c.status === 'passed').length,
      failed: cards.filter((c) => c.status === 'failed').length,
      skipped: result?.skipped ?? null,
      mttrMedianMs: mttr ?? null,
    });
    if (rows.length >= limit) break;
  }
  return rows;
}
