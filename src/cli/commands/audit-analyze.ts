import type { Command } from 'commander';
import { loadConfig } from '../../config';
import type { Analysis } from '../../audit/analyze';
import { analyzeRecords } from '../../audit/analyze';
import { BadAuditInput, readAuditRecords } from '../../audit/read-records';
import { CliError } from '../errors';
import { printJson, renderTable } from '../table';
import { auditCommand } from './audit';
import { EXIT } from '../exit-codes';

/** Exit codes of `audit analyze`: all correct, some wrong, input that cannot be scored. */
export const ANALYZE_EXIT = { allCorrect: EXIT.ok, someWrong: EXIT.failed, badInput: EXIT.badInput } as const;

function pct(correct: number, records: number): string {
  return records === 0 ? '-' : `${Math.round((100 * correct) / records)} %`;
}

function render(a: Analysis): string {
  const lines = a.records.flatMap((r) => [
    `${r.correct ? 'correct' : 'WRONG  '}  ${r.id}  ${r.scenario}  ${r.why}${r.findings.length > 1 ? ` (+${r.findings.length - 1} more, see --json)` : ''}`,
    ...r.notes.map((n) => `         note: ${n}`),
  ]);
  const scenarios = Object.entries(a.scenarios).map(([s, t]) => [s, t.records, t.correct, pct(t.correct, t.records)]);
  return [
    ...lines,
    '',
    renderTable(['SCENARIO', 'RECORDS', 'CORRECT', 'BY EFFECT'], [...scenarios, ['total', a.total.records, a.total.correct, pct(a.total.correct, a.total.records)]]),
  ].join('\n');
}

/** `dockmedic audit analyze FILE|DIR`: every record scored by effect against the policy. */
export function registerAuditAnalyze(program: Command): void {
  auditCommand(program)
    .command('analyze')
    .description(
      'Score audit records by effect against the policy (decide() on the record\'s facts): the right tool ran with the right arguments, and the outcome fits. Reads `audit export` output and the reference format. Exit 0 all correct, 1 some wrong, 2 input that cannot be scored',
    )
    .argument('<path>', 'a record, a JSON array, JSON Lines, or a directory of *.json / *.jsonl files')
    .option('--json', 'print every verdict, with its findings, and the tallies as JSON')
    .action((path: string, opts: { json?: boolean }) => {
      let analysis: Analysis;
      try {
        // Reference records carry no policy settings: they are judged under the ones in force now.
        analysis = analyzeRecords(readAuditRecords(path), loadConfig().policy);
      } catch (err) {
        if (!(err instanceof BadAuditInput)) throw err;
        throw new CliError(err.message, ANALYZE_EXIT.badInput, 'unreadable');
      }
      if (opts.json) printJson(analysis);
      else process.stdout.write(`${render(analysis)}\n`);
      process.exitCode = analysis.total.correct === analysis.total.records ? ANALYZE_EXIT.allCorrect : ANALYZE_EXIT.someWrong;
    });
}
