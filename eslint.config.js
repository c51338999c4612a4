// Typed lint: an unawaited promise in a consumer loop is a lost event, and modules talk through index.ts only.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';

const modules = 'schemas|domain|ingest/satel/protocol|ingest/satel/driver|ingest/sms/core|ingest/sms/driver|processors|gateway|commands|simulator|load-tests|platform|cli';
/** Modules talk through their index.ts; the pure leaves of platform/ may be imported on their own. */
const deepImports = [
  {
    regex: `^(\\.\\./)+(${modules})/(?!index\\.ts$)(?!errors\\.ts$)(?!random\\.ts$)(?!validate\\.ts$)(?!time\\.ts$).+`,
    message: 'Import another module through its index.ts (or the pure leaves platform/errors.ts, random.ts, time.ts and validate.ts), not its internals.',
  },
  {
    regex: '^(\\.\\./)+ingest/satel/(?!(protocol|driver)/)',
    message: 'ingest/satel has two entry points: protocol/index.ts (the pure codec) and driver/index.ts (sockets, Redis, the broker).',
  },
  {
    regex: '^\\.\\./(protocol|driver)/(?!index\\.ts$)',
    message: 'The Satel driver and codec talk through each other\'s index.ts.',
  },
  {
    regex: '^(\\.\\./)+ingest/sms/(?!(core|driver)/)',
    message: 'ingest/sms has two entry points: core/index.ts (AT, PDU, multipart, templates: pure) and driver/index.ts (serial port, broker, database).',
  },
  {
    regex: '^\\.\\./(core|driver)/(?!index\\.ts$)',
    message: 'The SMS driver and core talk through each other\'s index.ts.',
  },
];

/** Configuration, scenario, rules and option files are validated with TypeBox (platform/validate.ts), like every route. */
const oneValidator = [{ name: 'zod', message: 'The one validation library is TypeBox: platform/validate.ts.' }];

/** The Satel codec is pure: the driver and the simulator are built on it, so it needs neither. */
const pureCodec = [
  {
    regex: '^\\.\\./(?!\\.\\./\\.\\./platform/errors\\.ts$)',
    message: 'ingest/satel/protocol is pure: it imports nothing of the project but platform/errors.ts (not the driver, not platform/index.ts, which loads pg, kafkajs and ioredis).',
  },
  {
    regex: '^(node:)?(net|tls|dgram|http|https|http2|fs|fs/promises|child_process|cluster|worker_threads)$',
    message: 'ingest/satel/protocol does no I/O: sockets and files belong to ingest/satel/driver.',
  },
];

/**
 * The SMS core is pure like the Satel codec: the modem driver, the gateway's Efento webhook and the modem
 * simulator are built on it. It may read the SmsEvent contract's types (erased at run time), nothing else.
 */
const pureSmsCore = [
  {
    regex: '^\\.\\./(?!\\.\\./\\.\\./platform/(errors|validate)\\.ts$|\\.\\./\\.\\./schemas/index\\.ts$)',
    message: 'ingest/sms/core is pure: it imports nothing of the project but platform/errors.ts and platform/validate.ts (and the types of schemas/index.ts).',
  },
  { regex: '^\\.\\./\\.\\./\\.\\./schemas/index\\.ts$', allowTypeImports: true, message: 'ingest/sms/core takes only types from schemas/index.ts (the codec loads avsc and reads files).' },
  {
    regex: '^(node:)?(net|tls|dgram|http|https|http2|fs|fs/promises|child_process|cluster|worker_threads)$',
    message: 'ingest/sms/core does no I/O: the serial port, files and the broker belong to ingest/sms/driver.',
  },
  { regex: '^(serialport|@serialport/.*|kafkajs|pg|ioredis)$', message: 'ingest/sms/core does no I/O: serial ports, brokers and databases belong to ingest/sms/driver.' },
];

/**
 * The simulator runs without the centre: the codec and the platform leaves that load no client library
 * (logger and metrics too, because a simulator process logs and is scraped).
 */
const simulatorOnly = [
  {
    // Any depth (simulator/fcm/ too): every `../` is taken before the allowed targets are looked for.
    regex: '^(\\.\\./)+(?!\\.\\./)(?!ingest/satel/protocol/index\\.ts$|ingest/sms/core/index\\.ts$|platform/(errors|random|time|validate|logger|metrics|simulator-defaults)\\.ts$)',
    message: 'The simulator imports only ingest/satel/protocol/index.ts, ingest/sms/core/index.ts and the platform leaves errors, random, time, validate, logger, metrics and simulator-defaults (never platform/index.ts: it loads pg, kafkajs and ioredis).',
  },
];

/** The modem simulator (simulator/modem/) one folder down: the same pure imports, and nothing of the panel simulator. */
const modemSimulatorOnly = [
  {
    regex: '^\\.\\./(?!\\.\\./(ingest/sms/core/index\\.ts|platform/(errors|random|time|validate|logger|metrics|simulator-defaults)\\.ts)$)',
    message: 'simulator/modem imports only ingest/sms/core/index.ts and the platform leaves errors, random, time, validate, logger, metrics and simulator-defaults.',
  },
];

/** `stam load` lives in the CLI, so load-tests sits below cli/ and beside tests/: it imports neither. */
const loadTestsOnly = [
  { regex: '^(\\.\\./)+(cli|tests)/', message: 'load-tests imports neither cli/ (which hosts `stam load`) nor tests/ (benchmarks have their own harness: roles.ts, run-env.ts).' },
];

/** The gateway publishes the same alarm rows as the processor from domain/, and imports nothing of processors/. */
const gatewayOnly = [
  { regex: '^(\\.\\./)+processors/', message: 'The gateway takes the alarm model from domain/, not from processors/.' },
];

export default tseslint.config(
  { ignores: ['node_modules/**', '.data/**', 'infra/kafka/lib/**', 'load-tests/reports/**', 'console/dist/**', 'bin/**', 'eslint.config.js'] },
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
      'no-restricted-imports': ['error', { paths: oneValidator, patterns: deepImports }],
    },
  },
  {
    files: ['ingest/satel/protocol/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: oneValidator, patterns: [...deepImports, ...pureCodec] }] },
  },
  {
    files: ['ingest/sms/core/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: oneValidator, patterns: [...deepImports, ...pureSmsCore] }] },
  },
  {
    files: ['simulator/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: oneValidator,
        patterns: simulatorOnly,
      }],
    },
  },
  {
    files: ['simulator/modem/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: oneValidator, patterns: modemSimulatorOnly }] },
  },
  {
    files: ['load-tests/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: oneValidator, patterns: [...deepImports, ...loadTestsOnly] }] },
  },
  {
    files: ['gateway/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: oneValidator, patterns: [...deepImports, ...gatewayOnly] }] },
  },
  {
    // slonik (the report queries) types its rows with zod: there, and only there, zod is the row-type language.
    files: ['gateway/reports/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [...deepImports, ...gatewayOnly] }] },
  },
  {
    files: ['**/*.test.ts', 'tests/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
    },
  },
  {
    // The operator console runs in the browser and talks only to the public API: nothing of the server is imported.
    // vite and its React plugin are build tools whose package exports the import resolver cannot read: not followed for cycles.
    files: ['console/**/*.ts', 'console/**/*.tsx'],
    settings: { 'import-x/core-modules': ['vite', '@vitejs/plugin-react'] },
    rules: { 'no-restricted-imports': ['error', { paths: oneValidator, patterns: [{ regex: `^(\\.\\./)+(${modules}|tests)/`, message: 'The console imports only its own files and browser libraries (it talks to the gateway over the public API).' }] }] },
  },
);
