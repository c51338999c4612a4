// The notifier (`stam notifier`): push jobs from RabbitMQ to FCM. Its public surface: the role's
// factory, the FCM client over the project's own credential, the pure decisions (tests, bench).
export { createNotifier, DEAD_LETTER_HEADERS } from './notifier.ts';
export type { Notifier, NotifierOptions } from './notifier.ts';
export { createFcmClient, fcmAgent, FCM_HOST } from './fcm.ts';
export type { FcmClient, FcmClientOptions } from './fcm.ts';
export { readServiceAccount, serviceAccountCredential, FCM_SCOPE } from './credential.ts';
export type { ServiceAccount, ServiceAccountCredential } from './credential.ts';
export { parsePushJob } from './job.ts';
export type { PushJob } from './job.ts';
export { alarmMessage, pushTag } from './message.ts';
export type { AlarmContext } from './message.ts';
export { decide } from './outcome.ts';
export type { SendDecision } from './outcome.ts';
export { skipReason } from './attempt.ts';
export { pruneStaleDevices } from './store.ts';
