// Lint rules that keep workflow code deterministic and async code honest (docs/architecture.md §7 rule 9).
import tseslint from 'typescript-eslint';
import importPlugin from 'eslint-plugin-import';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'bench/results/**', '**/*.mjs', '**/*.js'] },
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommended],
    languageOptions: {
      parserOptions: { project: './tsconfig.json', tsconfigRootDir: import.meta.dirname },
    },
    plugins: { import: importPlugin },
    settings: { 'import/resolver': { node: { extensions: ['.ts', '.js'] } } },
    rules: {
      // node:test's describe/it return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite', 'before', 'after', 'beforeEach', 'afterEach'] }] },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'import/no-cycle': 'error',
      eqeqeq: ['error', 'always'],
    },
  },
  {
    // Workflow code runs in Temporal's deterministic sandbox: no I/O, no clocks, no Node built-ins.
    // The contract and the policy are bundled into workflows too, so the same rules hold there.
    files: ['workflows/**/*.ts', 'src/contract/**/*.ts', 'src/policy/**/*.ts'],
    rules: {
      // Type-only imports of activities are how workflows proxy them; value imports are not.
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({ name, message: 'Node built-ins are not deterministic; use @temporalio/workflow APIs.' })),
          patterns: [
            {
              group: ['**/activities', '**/activities/**', '**/src/gateway/**', '**/src/gateway-client/**', '**/src/watcher/**', '**/src/cli/**', '**/src/config/**', 'dockerode', 'ioredis', 'openai'],
              message: 'Workflows must not import I/O code; call activities.',
              allowTypeImports: true,
            },
          ],
        },
      ],
    },
  },
);
