import type { PolicyConfig } from '../contract/policy';
import { exportEvidence } from './export-evidence';
import type { ParsedRecord } from './read-records';
import { referenceEvidence } from './reference-evidence';
import type { RecordVerdict } from './score';
import { scoreRecord } from './score';

/**
 * `audit analyze`'s result (docs/architecture.md §6): a verdict per record, correctness per
 * scenario (the policy's failure kind) and in total. dockmedic records are judged under the
 * policy settings recorded with the incident; reference records under `policy`, the settings
 * in force now, since they carry none.
 */

export interface ScoredRecord extends RecordVerdict {
  source: string;
}

export interface Tally {
  records: number;
  correct: number;
}

export interface Analysis {
  records: ScoredRecord[];
  scenarios: Record<string, Tally>;
  total: Tally;
}

export function analyzeRecords(records: ParsedRecord[], policy: PolicyConfig): Analysis {
  const scored = records.map((r) => {
    const evidence = r.kind === 'dockmedic' ? exportEvidence(r.record) : referenceEvidence(r.record, policy);
    return { source: r.source, ...scoreRecord(evidence) };
  });
  const scenarios: Record<string, Tally> = {};
  for (const r of scored) {
    const t = (scenarios[r.scenario] ??= { records: 0, correct: 0 });
    t.records++;
    if (r.correct) t.correct++;
  }
  return { records: scored, scenarios, total: { records: scored.length, correct: scored.filter((r) => r.correct).length } };
}
