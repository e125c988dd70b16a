// ESLint: typescript-eslint's type-checked rules for the whole code base, and the layer rules of
// docs/architecture.md (eslint-plugin-boundaries): a lower layer never imports a higher one, and
// nothing but the composition root (agent/) reaches the adapters (journal/, db/, s3/) directly.
import js from '@eslint/js';
import boundaries from 'eslint-plugin-boundaries';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/**
 * The layers of src/ (docs/architecture.md) and what each may import. Lower layers never import
 * higher ones, and only the composition root (agent/) builds the adapters (journal/, db/, s3/);
 * everything else reaches them through ports/. schedule/policy/ (backoff, claim order, pure)
 * are shared with the adapters that apply them.
 */
const LAYERS = {
  core: [],
  ports: ['core'],
  land: ['core'],
  config: ['core'],
  db: ['core'],
  'schedule-policy': [],
  journal: ['core', 'ports', 'db', 'schedule-policy'],
  s3: ['core', 'ports', 'schedule-policy'],
  detect: ['core', 'ports'],
  schedule: ['core', 'ports', 'schedule-policy'],
  transfer: ['core', 'ports', 'land'],
  observability: ['core', 'ports', 'config', 'schedule'],
  report: ['core', 'ports', 'observability'],
  fleet: ['core', 'ports', 'config', 'report', 's3'],
  demo: ['core', 's3'],
  agent: [
    'core',
    'ports',
    'land',
    'config',
    'db',
    'journal',
    's3',
    'detect',
    'schedule',
    'schedule-policy',
    'transfer',
    'observability',
    'report',
  ],
  cli: ['core', 'ports', 'land', 'config', 'observability', 'report', 'fleet', 'demo', 'agent'],
};

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', '.bench-out/', '.scratch/'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  ...tseslint.configs.stylisticTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
      globals: globals.node,
    },
    rules: {
      // What a daemon must get right (STYLE.md, B9).
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/only-throw-error': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      // With noUncheckedIndexedAccess, `array[i]!` after a bounds check is the idiom, not a smell.
      '@typescript-eslint/no-non-null-assertion': 'off',
      // Numbers and booleans read fine in messages; objects and nullish values are the bugs.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      // `return send(...)` as an early exit reads well; so does a shorthand arrow that returns nothing.
      '@typescript-eslint/no-confusing-void-expression': 'off',
      // It cannot see a flag or signal changed by a callback or across an await, which is how an
      // agent's loops end (`while (!signal.aborted)`): more false alarms than findings here.
      '@typescript-eslint/no-unnecessary-condition': 'off',
      // `x !== undefined && x.size === n` says what it checks; `x?.size === n` hides the undefined case.
      '@typescript-eslint/prefer-optional-chain': 'off',
      // `Number(header || 0)`: an empty header is no number either.
      '@typescript-eslint/prefer-nullish-coalescing': ['error', { ignorePrimitives: { string: true } }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // node:test's test() and describe() return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite'] }] },
      ],
      // Fakes implement async ports without awaiting anything; no-op callbacks are the point.
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-empty-function': 'off',
      // t.after(async () => ...) and servers with async handlers in test helpers are awaited or guarded.
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
    },
  },
  {
    files: ['src/**/*.ts'],
    plugins: { boundaries },
    settings: {
      'import/resolver': { typescript: { project: './tsconfig.json' } },
      'boundaries/elements': [
        { type: 'schedule-policy', pattern: 'src/schedule/policy' },
        ...Object.keys(LAYERS)
          .filter((type) => type !== 'schedule-policy')
          .map((type) => ({ type, pattern: `src/${type}` })),
      ],
    },
    rules: {
      'boundaries/dependencies': [
        'error',
        {
          default: 'disallow',
          policies: [
            ...Object.entries(LAYERS).map(([type, allowed]) => ({
              from: { element: { type } },
              allow: { to: { element: { types: { anyOf: [type, ...allowed] } } } },
            })),
            // Packages and Node's built-in modules, wherever the per-file lint rules allow them.
            { allow: { to: { module: { origin: 'external' } } } },
            { allow: { to: { module: { origin: 'core' } } } },
          ],
        },
      ],
      'boundaries/no-unknown-files': 'error',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
);
