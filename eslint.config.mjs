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
  // Service boundaries (issue 12, ADR 0018/0021): a service imports no other service's code; the
  // composition root (apps/tandem) wires them. Delegation reads the care record only as events.
  {
    files: ['services/delegation/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['@tandem/record', '@tandem/record/*', '**/services/record/**', '**/record/src/**'], message: 'services/delegation imports nothing from services/record: read care events (@tandem/contracts), or take a port the composition root fills' }] },
      ],
    },
  },
  // The record reads the FHIR read model through @tandem/fhir-read-model, not the projections service
  // that writes it (only its FHIR write tests run the real projection, a devDependency).
  {
    files: ['services/record/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['@tandem/projections', '@tandem/projections/*', '**/services/projections/**', '**/projections/src/**'], message: 'the record reads the FHIR read model from @tandem/fhir-read-model, not from the projections service' }] },
      ],
    },
  },
);
