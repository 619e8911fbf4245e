import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['node_modules/**', 'lib/**', 'dist/**', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
      globals: { ...globals.node },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Workflow code runs in Temporal's deterministic sandbox: no Node built-ins, no I/O libraries, no Node-side modules.
    files: ['src/workflows/**/*.ts', 'src/policy/**/*.ts', 'src/shared/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['node:*', 'fs', 'path', 'http', 'https', 'net', 'crypto', 'child_process', 'os'], message: 'No Node built-ins in workflow code.' },
          { group: ['twilio', 'twilio/*', 'fastify', 'pino', '@temporalio/client', '@temporalio/worker', '@temporalio/activity'], message: 'Workflow code must not import I/O libraries.' },
          {
            // Any relative import that climbs out to a sibling other than policy, shared or workflows: activities,
            // config, emulator, webhook, twilio, … all run on Node. Their types are fine (erased from the bundle).
            regex: '^(\\.\\./)+(?!\\.\\./|(policy|shared|workflows)(/|$))',
            allowTypeImports: true,
            message: 'Workflow code takes values only from src/policy, src/shared and src/workflows; use `import type` for the rest, or move what it needs to src/shared.',
          },
        ],
      }],
    },
  },
  {
    files: ['bin/**/*.js', 'test/**/*.js'],
    languageOptions: { globals: { ...globals.node }, sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
