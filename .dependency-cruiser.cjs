// Import cycles between the project's own modules, type-only imports included (issue 8):
// eslint's import/no-cycle skips `import type`, so a cycle made of types alone goes unseen there.
//   node_modules/.bin/depcruise --config .dependency-cruiser.cjs src workflows activities test bench
// (`make cycles`; `make test` runs it). It exits non-zero when it finds a cycle.
const { join } = require('node:path');

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Modules may not depend on each other in a circle, not even through type-only imports.',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    // Keep the type-only imports that tsc erases from the compiled JavaScript.
    tsPreCompilationDeps: true,
    // Absolute, so the config also works when run from another directory (test/unit/cycles.test.ts).
    tsConfig: { fileName: join(__dirname, 'tsconfig.json') },
    // Packages resolve (CommonJS, as tsc does) but are not read: no cycle runs through them.
    doNotFollow: { path: ['node_modules'] },
    exclude: { path: '^dist/' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['require', 'node', 'default', 'types'],
      mainFields: ['main', 'types'],
      extensions: ['.ts', '.d.ts', '.js', '.json'],
    },
  },
};
