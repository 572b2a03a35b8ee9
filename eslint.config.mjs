import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', '**/coverage/**', '**/*.js', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // The browser app is built from contracts alone: a service's code reached by a relative path
    // would make the phone and the server drift apart in silence (docs/decisions/0018).
    files: ['apps/web/src/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/services/**', '@tandem/record', '@tandem/delegation', '@tandem/projections'], message: 'the app imports shared rules from @tandem/contracts, never a service' }] }],
    },
  },
);
