import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** bench/results/<name>.json in the repository (the compiled bench runs from dist/bench). */
export function resultsPath(name: string): string {
  return join(__dirname, '../../bench/results', `${name}.json`);
}

/** Prints the result as one JSON line and writes it, pretty, to bench/results/<name>.json. */
export function writeResult(name: string, result: unknown): void {
  process.stdout.write(`${JSON.stringify(result)}\n`);
  const file = resultsPath(name);
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
}
