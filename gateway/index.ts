// What other modules use of the gateway: building it (cli/roles.ts, tests), its stream, keys and
// passwords for the CLI, and the few names tests check against.
export { buildGateway } from './app.ts';
export type { Gateway } from './app.ts';
export { settingsFromConfig } from './settings.ts';
export type { GatewaySettings } from './settings.ts';
export { KeyRing, rotateSigningKey } from './keys.ts';
export { hashPassword } from './passwords.ts';
export { createAlarmStream } from './stream.ts';
export type { AlarmStream } from './stream.ts';
export { EPOCH_KEY } from './redis-keys.ts';
export { CLOSE_RESTART, CLOSE_TOO_SLOW } from './session.ts';
export { sweepExpiredModes } from './objects-store.ts';
export { rotateStoredSecrets } from './secret-store.ts';
export { ROLES } from './rbac.ts';
export { createReportDatabases } from './reports/index.ts';
export type { ReportDatabases } from './reports/index.ts';
export { createEfentoIntake } from './efento-store.ts';
export type { EfentoIntake } from './efento-store.ts';
