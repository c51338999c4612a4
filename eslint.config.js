// Typed lint: an unawaited promise in a consumer loop is a lost event, and modules talk through index.ts only.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';

export default tseslint.config(
  { ignores: ['node_modules/**', '.data/**', 'infra/kafka/lib/**', 'load-tests/reports/**', 'gateway/public/**', 'bin/**', 'eslint.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    plugins: { 'import-x': importX },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      // kafkajs hands eachBatch helpers meant to be destructured.
      '@typescript-eslint/unbound-method': 'off',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      'import-x/no-cycle': 'error',
      'no-restricted-imports': ['error', {
        patterns: [{
          regex: '^(\\.\\./)+(schemas|domain|ingest/satel|ingest/sms|processors|gateway|commands|simulator|load-tests|platform)/(?!index\\.ts$)(?!errors\\.ts$)(?!random\\.ts$)(?!validate\\.ts$)(?!time\\.ts$).+',
          message: 'Import another module through its index.ts (or the pure leaves platform/errors.ts, random.ts, time.ts and validate.ts), not its internals.',
        }],
      }],
    },
  },
  {
    files: ['**/*.test.ts', 'tests/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
    },
  },
);
