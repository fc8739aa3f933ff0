import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../helpers/paths';

// The cycle check `make test` runs (.dependency-cruiser.cjs), on small trees written here.
const DEPCRUISE = join(repoRoot, 'node_modules', '.bin', 'depcruise');
const CONFIG = join(repoRoot, '.dependency-cruiser.cjs');

/** The parts of dependency-cruiser's JSON output (`--output-type json`) the tests read. */
interface CruiseResult {
  summary: {
    error: number;
    violations: { from: string; to: string; rule: { name: string; severity: string }; cycle?: { name: string; dependencyTypes: string[] }[] }[];
  };
}

let root: string;
before(() => {
  root = mkdtempSync(join(tmpdir(), 'dockmedic-cycles-'));
});
after(() => {
  rmSync(root, { recursive: true, force: true });
});

/** A fresh tree under this file's temp root with the given files (paths relative to it). */
function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(root, 'tree-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

/**
 * Run the CLI with the project's config on `src` of the tree: once as `make` does (its exit
 * status), once for the JSON report (that reporter always exits 0).
 */
function cruise(dir: string): { status: number | null; stderr: string; result: CruiseResult } {
  const run = (extra: string[]) => spawnSync(DEPCRUISE, ['--config', CONFIG, ...extra, 'src'], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
  const check = run([]);
  const report = run(['--output-type', 'json']);
  assert.equal(report.status, 0, report.stderr);
  return { status: check.status, stderr: check.stderr, result: JSON.parse(report.stdout) as CruiseResult };
}

describe('cycle check (dependency-cruiser)', () => {
  it('fails on a cycle made of type-only imports and reports both files', () => {
    const dir = tree({
      'src/a.ts': "import type { B } from './b';\nexport interface A { b?: B }\n",
      'src/b.ts': "import type { A } from './a';\nexport interface B { a?: A }\n",
    });
    const { status, stderr, result } = cruise(dir);
    assert.notEqual(status, 0, 'a cycle must fail the check');
    assert.notEqual(status, null, `depcruise did not exit: ${stderr}`);
    assert.equal(result.summary.error, 1);
    const [v] = result.summary.violations;
    assert.ok(v);
    assert.equal(v.rule.name, 'no-circular');
    assert.equal(v.rule.severity, 'error');
    const files = new Set([v.from, ...(v.cycle ?? []).map((step) => step.name)]);
    assert.deepEqual([...files].sort(), ['src/a.ts', 'src/b.ts']);
    for (const step of v.cycle ?? []) assert.ok(step.dependencyTypes.includes('type-only'), `${step.name}: ${step.dependencyTypes.join(', ')}`);
  });

  it('passes a tree without a cycle', () => {
    const dir = tree({
      'src/a.ts': "import type { B } from './b';\nexport interface A { b?: B }\n",
      'src/b.ts': 'export interface B { n: number }\n',
    });
    const { status, stderr, result } = cruise(dir);
    assert.equal(status, 0, stderr);
    assert.equal(result.summary.error, 0);
    assert.deepEqual(result.summary.violations, []);
  });
});
