// typescript-eslint's recommended rules over the whole tree (compiled output excluded), the
// rules a daemon needs about promises, and the layering of ARCHITECTURE.md: each folder may
// import only the layers below it, so a wrong-way import fails `make lint`.
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

/**
 * One block per folder: ESLint replaces (does not merge) a rule's options when several blocks
 * match a file, so every folder states its whole list of forbidden layers. The regex is matched
 * against the import string as written (relative paths).
 */
const forbid = (files, regex, message) => ({
  files,
  rules: { 'no-restricted-imports': ['error', { patterns: [{ regex, message }] }] },
})
const above = (...layers) => `(^|/)(${layers.join('|')})/`

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', URL: 'readonly', performance: 'readonly', AbortController: 'readonly', AbortSignal: 'readonly', structuredClone: 'readonly' },
      parserOptions: { projectService: { allowDefaultProject: ['eslint.config.js'] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      // In a daemon a lost promise is a task that is never resolved.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
    },
  },
  { files: ['eslint.config.js'], ...tseslint.configs.disableTypeChecked },
  // The layers, bottom to top (ARCHITECTURE.md): lib; contract and config; taskcluster and
  // servers; executors and features; run; compare and worker; cli.
  forbid(['src/lib/**'], `${above('contract', 'config', 'taskcluster', 'servers', 'run', 'worker', 'compare', 'cli', 'executors', 'features')}`, 'src/lib is the bottom layer: it imports only src/lib'),
  forbid(['src/contract/**'], above('taskcluster', 'servers', 'run', 'worker', 'compare', 'cli', 'executors', 'features'), 'src/contract holds interfaces: it imports only src/contract, src/config (types) and src/lib'),
  forbid(['src/config/**'], above('taskcluster', 'servers', 'run', 'worker', 'compare', 'cli', 'executors', 'features'), 'src/config imports only src/contract and src/lib'),
  forbid(['src/taskcluster/**'], above('servers', 'run', 'worker', 'compare', 'cli', 'executors', 'features'), 'src/taskcluster (service clients) imports only contract, config and lib'),
  forbid(['src/servers/**'], above('taskcluster', 'run', 'worker', 'compare', 'cli', 'executors', 'features'), 'src/servers imports only contract, config and lib'),
  forbid(['executors/**'], `(^|/)src/(run|worker|compare|cli)/|(^|/)features/`, 'executors see the core only through src/contract (and lib, config, taskcluster, servers); they never import a feature'),
  forbid(['features/**'], `(^|/)src/(run|worker|compare|cli)/|(^|/)executors/`, 'a feature sees the core only through src/contract (and lib, config, taskcluster, servers); it never imports an executor'),
  forbid(['src/run/**'], above('worker', 'compare', 'cli', 'executors', 'features'), 'a run sees executors and features only through src/contract'),
  forbid(['src/compare/**'], above('worker', 'cli'), 'src/compare may wire executors and features, but not the daemon or the command line'),
  forbid(['src/worker/**'], above('compare', 'cli'), 'src/worker may wire executors and features, but not the command line or src/compare'),
  // Outside the layers: the release build works on the compiled tree and needs only src/lib.
  forbid(['release/**'], above('contract', 'config', 'taskcluster', 'servers', 'run', 'worker', 'compare', 'cli', 'executors', 'features'), 'release/ builds the tarball from dist/: it imports only src/lib'),
)
