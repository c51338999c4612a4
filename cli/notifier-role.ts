import { createFcmClient, createNotifier } from '../processors/index.ts';
import type { Service } from '../platform/index.ts';
import type { RoleContext } from './context.ts';

/**
 * `stam notifier`: push jobs (RabbitMQ notifications.push) to FCM. With FEATURE_PUSH_ENABLED off it runs
 * idle (no job is queued then either) instead of exiting, so a restart policy does not loop on it.
 */
export async function startNotifier(ctx: RoleContext): Promise<Service> {
  const { config: c, log } = ctx;
  if (!c.FEATURE_PUSH_ENABLED) {
    log.warn('FEATURE_PUSH_ENABLED is off: the notifier sends nothing (and the relay queues no push job)');
    await ctx.startOps();
    return { stop: () => Promise.resolve() };
  }
  const credentialsFile = c.FCM_CREDENTIALS_FILE;
  if (!credentialsFile) throw new Error('FCM_CREDENTIALS_FILE is not set: the notifier needs the Firebase service-account file (a Docker secret in compose)');
  if (c.NOTIFIER_CONCURRENCY >= c.DATABASE_POOL_SIZE) {
    log.warn({ concurrency: c.NOTIFIER_CONCURRENCY, pool: c.DATABASE_POOL_SIZE }, 'NOTIFIER_CONCURRENCY should stay below DATABASE_POOL_SIZE: each send holds a connection');
  }
  const notifier = createNotifier({
    url: c.RABBITMQ_URL, pool: ctx.pool(), log, quorum: c.NODE_ENV === 'production',
    fcm: () => createFcmClient({ credentialsFile, projectId: c.FCM_PROJECT_ID, apiUrl: c.FCM_API_URL, maxSockets: c.FCM_MAX_SOCKETS, log }),
    prefetch: c.NOTIFIER_PREFETCH, concurrency: c.NOTIFIER_CONCURRENCY, ttlS: c.FCM_MESSAGE_TTL_S,
    retry: { baseMs: c.FCM_RETRY_BASE_MS, maxMs: c.FCM_RETRY_MAX_MS, quotaMs: c.FCM_QUOTA_BACKOFF_MS, deadlineMs: c.FCM_RETRY_DEADLINE_S * 1000 },
    credentialRetryMs: c.FCM_CREDENTIAL_RETRY_S * 1000, staleDays: c.DEVICE_STALE_DAYS,
  });
  ctx.checks.push(...notifier.checks);
  await ctx.startOps();
  await notifier.start();
  return notifier;
}
