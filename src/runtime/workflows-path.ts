/**
 * The compiled workflow code the worker registers (dist/workflows/index.js). `dockmedic replay`
 * replays past histories against this same module, so what it checks is what the worker runs.
 */
export const WORKFLOWS_PATH = require.resolve('../../workflows');
