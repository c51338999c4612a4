import type { AddressInfo } from 'node:net';
import { configureSecrets, createProducer, ensureDatabase, migrate, runService, type Service } from '../platform/index.ts';
import { createAlarmProcessor, createOutboxRelay, declarePushTopology, seedRulesIfEmpty } from '../processors/index.ts';
import { KeyRing, buildGateway, createAlarmStream, createEfentoIntake, createReportDatabases, settingsFromConfig } from '../gateway/index.ts';
import { createSatelDriver } from '../ingest/satel/driver/index.ts';
import { openAmqpLink } from '../commands/index.ts';
import { ensureTopics, roleContext, type RoleContext } from './context.ts';
import { gatewayCommands, satelDriverId, startDriverCommands } from './commands-role.ts';

/** Runs a role as a process: validated config, ops endpoints, SIGTERM draining, clients closed in reverse order. */
export async function runRole(role: string, start: (ctx: RoleContext) => Promise<Service>): Promise<void> {
  const ctx = roleContext(role);
  await runService({
    name: role, log: ctx.log, graceMs: ctx.config.SHUTDOWN_GRACE_MS, lifecycle: ctx.lifecycle,
    start: async () => {
      const service = await start(ctx);
      return { stop: async () => { await service.stop(); await ctx.close(); } };
    },
  });
}

export async function migrateRole(): Promise<void> {
  const ctx = roleContext('migrate');
  try {
    await ensureDatabase(ctx.config.DATABASE_URL);
    const { applied } = await migrate(ctx.config.DATABASE_URL, ctx.log);
    await seedRulesIfEmpty(ctx.pool());
    await ensureTopics(ctx).catch((err: Error) => {
      throw new Error(`topics could not be provisioned on ${ctx.config.KAFKA_BROKERS}: ${err.message}`, { cause: err });
    });
    ctx.log.info({ applied: applied.length }, 'database migrated and topics provisioned');
  } catch (err) {
    ctx.log.fatal({ err: (err as Error).message }, 'migrate failed');
    process.exitCode = 1;
  } finally {
    await ctx.close();
  }
}

export const startSatelIngest = async (ctx: RoleContext): Promise<Service> => {
  // Panel integration keys are sealed at rest (panels.integration_key_enc); the driver opens them with this ring.
  configureSecrets({ keys: ctx.config.SECRETS_KEYS, keyFile: ctx.config.SECRETS_KEY_FILE, generate: ctx.config.NODE_ENV !== 'production' });
  const driverId = satelDriverId(ctx.config);
  const commands = await startDriverCommands(ctx, driverId); // FEATURE_ARM_DISARM_ENABLED: the driver's command queue
  const driver = createSatelDriver({
    kafka: ctx.kafka(), pool: ctx.pool(), redis: ctx.redis(), log: ctx.log, topicPrefix: ctx.config.KAFKA_TOPIC_PREFIX,
    pollIntervalMs: ctx.config.SATEL_POLL_INTERVAL_MS, answerTimeoutMs: ctx.config.SATEL_ANSWER_TIMEOUT_MS, panelRefreshMs: ctx.config.SATEL_PANEL_REFRESH_MS,
    connectTimeoutMs: ctx.config.SATEL_CONNECT_TIMEOUT_MS, keepAliveMs: ctx.config.SATEL_KEEPALIVE_MS, logSweepMs: ctx.config.SATEL_LOG_SWEEP_MS, monitoring: ctx.config.SATEL_MONITORING, pushReadsPerS: ctx.config.SATEL_PUSH_READS_PER_S, nameReadsPerS: ctx.config.SATEL_NAME_READS_PER_S,
    logCatchUpMax: ctx.config.SATEL_LOG_CATCHUP_MAX, logLinesPerMinute: ctx.config.SATEL_LOG_LINES_PER_MINUTE, supervisionMs: ctx.config.LINK_SUPERVISION_S * 1000, traceSource: ctx.config.SATEL_TRACE_SOURCE,
    driverId, commands,
    ha: ctx.config.FEATURE_HA_ENABLED ? { ttlMs: ctx.config.SATEL_LEASE_TTL_MS, renewMs: ctx.config.SATEL_LEASE_RENEW_MS } : undefined,
  });
  ctx.checks.push({
    name: 'panel-encryption', check: () => Promise.resolve(),
    warnings: () => driver.clearTextPanels().map((id) => `panel ${id}: user code sent in clear (no integration key)`),
  });
  await ctx.startOps();
  await driver.start();
  return { stop: async () => { await driver.stop(); await commands?.stop(); } };
};

export const startAlarmProcessor = async (ctx: RoleContext): Promise<Service> => {
  const kafka = ctx.kafka();
  const producer = await createProducer(kafka);
  const processor = createAlarmProcessor({
    kafka, producer, pool: ctx.pool(), log: ctx.log, groupId: ctx.config.PROCESSOR_GROUP, topicPrefix: ctx.config.KAFKA_TOPIC_PREFIX,
    maxBatch: ctx.config.PROCESSOR_MAX_BATCH, bundlingWindowMs: ctx.config.BUNDLING_WINDOW_S * 1000, smsEnabled: ctx.config.FEATURE_SMS_ENABLED, pushEnabled: ctx.config.FEATURE_PUSH_ENABLED,
    flood: { threshold: ctx.config.FLOOD_THRESHOLD, windowMs: ctx.config.FLOOD_WINDOW_S * 1000 },
    sessionTimeoutMs: ctx.config.KAFKA_SESSION_TIMEOUT_MS, heartbeatIntervalMs: ctx.config.KAFKA_HEARTBEAT_INTERVAL_MS,
  });
  await ctx.startOps();
  await processor.start();
  return { stop: async () => { await processor.stop(); await producer.disconnect(); } };
};

export const startOutboxRelay = async (ctx: RoleContext): Promise<Service> => {
  const kafka = ctx.kafka();
  const producer = await createProducer(kafka);
  // FEATURE_PUSH_ENABLED: push jobs go out on a kept-alive confirm channel (reconnects after a broker
  // restart); while it is down, batches with push rows wait. Off: no push job is published at all.
  const push = ctx.config.FEATURE_PUSH_ENABLED
    ? await openAmqpLink({ url: ctx.config.RABBITMQ_URL, name: 'outbox-relay-push', log: ctx.log, waitForConnect: false, setup: (ch) => declarePushTopology(ch, ctx.config.NODE_ENV === 'production') })
    : undefined;
  if (push) ctx.checks.push({ name: 'rabbitmq', check: () => (push.channel ? Promise.resolve() : Promise.reject(new Error(push.setupError ?? 'RabbitMQ not connected'))) });
  const relay = createOutboxRelay({
    pool: ctx.pool(), databaseUrl: ctx.config.DATABASE_URL, producer, log: ctx.log, topicPrefix: ctx.config.KAFKA_TOPIC_PREFIX,
    batchSize: ctx.config.RELAY_BATCH, idleMs: ctx.config.RELAY_IDLE_MS, retentionHours: ctx.config.OUTBOX_RETENTION_H, ...(push ? { pushChannel: () => push.channel } : {}),
  });
  await ctx.startOps();
  await relay.start();
  return {
    stop: async () => {
      await relay.stop();
      await producer.disconnect();
      await push?.close();
    },
  };
};

export const startGateway = async (ctx: RoleContext): Promise<Service> => {
  const { config } = ctx;
  configureSecrets({ keys: config.SECRETS_KEYS, keyFile: config.SECRETS_KEY_FILE, generate: config.NODE_ENV !== 'production' });
  const keys = await KeyRing.open({
    dir: config.JWT_KEY_DIR, issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE, ttlS: config.JWT_TTL_S, reloadEveryS: config.JWT_KEY_RELOAD_S,
  });
  const stream = config.FEATURE_REALTIME_ENABLED
    ? createAlarmStream({
      kafka: ctx.kafka(), redis: ctx.redis(), pool: ctx.pool(), log: ctx.log, topicPrefix: config.KAFKA_TOPIC_PREFIX,
      bufferSize: config.WS_BUFFER_SIZE, historyRetentionH: config.WS_HISTORY_RETENTION_H,
    })
    : undefined;
  const commands = await gatewayCommands(ctx);
  const reportDbs = await createReportDatabases({
    primaryUrl: config.DATABASE_URL, replicaUrl: config.DATABASE_REPLICA_URL, poolSize: config.REPORTS_POOL_SIZE,
    statementTimeoutMs: config.REPORTS_STATEMENT_TIMEOUT_MS, maxLagS: config.REPORTS_MAX_LAG_S, log: ctx.log,
  });
  // FEATURE_SMS_ENABLED: Efento Cloud alert webhooks go into sms.events.v1 like an SMS.
  const smsProducer = config.FEATURE_SMS_ENABLED ? await createProducer(ctx.kafka()) : undefined;
  const efento = smsProducer ? createEfentoIntake({ pool: ctx.pool(), producer: smsProducer, topicPrefix: config.KAFKA_TOPIC_PREFIX, secret: config.SMS_EFENTO_WEBHOOK_SECRET }) : undefined;
  const app = await buildGateway({
    pool: ctx.pool(), redis: ctx.redis(), keys, log: ctx.log, checks: ctx.checks, lifecycle: ctx.lifecycle,
    settings: settingsFromConfig(config), commands: commands.options,
    reports: { databases: reportDbs, claimDeadlineS: config.REPORTS_CLAIM_DEADLINE_S, log: ctx.log }, ...(stream ? { stream } : {}), ...(efento ? { efento } : {}),
  });
  if (stream) {
    await stream.start();
    ctx.checks.push({ name: 'alarm-stream', check: () => stream.ready() });
  }
  await app.listen({ host: config.GATEWAY_HOST, port: config.GATEWAY_PORT });
  const { port } = app.server.address() as AddressInfo;
  ctx.log.info({ port, url: `http://${config.GATEWAY_HOST}:${port}/` }, 'gateway listening (console at /, API docs at /docs)');
  return {
    stop: async () => {
      // WebSocket clients get close 1012 (reconnect and resume), in-flight requests finish, then the stream stops.
      await app.close();
      await stream?.stop();
      await commands.close();
      await reportDbs.close();
      await smsProducer?.disconnect();
      keys.close();
    },
  };
};
