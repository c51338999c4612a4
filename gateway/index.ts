export { buildGateway } from './app.ts';
export type { GatewayDeps } from './app.ts';
export { KeyRing } from './keys.ts';
export type { Claims } from './keys.ts';
export { hashPassword, verifyPassword } from './passwords.ts';
export { createAlarmStream, BUFFER_KEY, EPOCH_KEY } from './stream.ts';
export type { AlarmStream, StreamMessage } from './stream.ts';
