import { createCommandLedger, createCommandPublisher, createDeadLetterConsumer, createResultReporter, type CommandApiOptions } from '../commands/index.ts';
import { createDriverCommands, defaultDriverId, type DriverCommands } from '../ingest/satel/driver/index.ts';
import { createProducer, type Config, type Service } from '../platform/index.ts';
import { createCommandResultsProcessor, createCommandSweeper } from '../processors/index.ts';
import type { RoleContext } from './context.ts';

/** Longest a driver can be busy with one command (control frame, four read-backs, 0xFF retries): older claims are dead. */
export const interruptedAfterMs = (c: Config): number => c.SATEL_ANSWER_TIMEOUT_MS * 6 + 2_000;

/** The driver id in lease tokens and in the name of the driver's command queue. */
export const satelDriverId = (c: Config): string => c.SATEL_DRIVER_ID ?? defaultDriverId();

/**
 * `stam command-processor`: records the one terminal state of each command (command.results.v1 → commands +
 * outbox + audit, offsets in the same transaction), answers dead-lettered commands, and sweeps commands
 * nobody answered. Runs without FEATURE_ARM_DISARM_ENABLED too (it then simply finds no work).
 */
export async function startCommandProcessor(ctx: RoleContext): Promise<Service> {
  const { config } = ctx;
  const kafka = ctx.kafka();
  const producer = await createProducer(kafka);
  const pool = ctx.pool();
  const quorum = config.NODE_ENV === 'production';
  const processor = createCommandResultsProcessor({ kafka, producer, pool, log: ctx.log, groupId: config.COMMAND_RESULTS_GROUP, topicPrefix: config.KAFKA_TOPIC_PREFIX,
    sessionTimeoutMs: config.KAFKA_SESSION_TIMEOUT_MS, heartbeatIntervalMs: config.KAFKA_HEARTBEAT_INTERVAL_MS });
  const deadLetters = createDeadLetterConsumer({
    url: config.RABBITMQ_URL, log: ctx.log, quorum, ledger: createCommandLedger(pool), report: createResultReporter(producer, config.KAFKA_TOPIC_PREFIX),
    interruptedAfterMs: interruptedAfterMs(config),
  });
  const sweeper = createCommandSweeper({ pool, log: ctx.log, graceMs: config.COMMANDS_GRACE_S * 1000, intervalMs: config.COMMANDS_SWEEP_INTERVAL_S * 1000 });
  await ctx.startOps();
  await processor.start();
  await deadLetters.start();
  sweeper.start();
  return {
    stop: async () => {
      await sweeper.stop();
      await deadLetters.stop();
      await processor.stop();
      await producer.disconnect();
    },
  };
}

/** The satel-ingest role's command side, when FEATURE_ARM_DISARM_ENABLED; started before the driver takes panels. */
export async function startDriverCommands(ctx: RoleContext, driverId: string): Promise<DriverCommands | undefined> {
  const { config } = ctx;
  if (!config.FEATURE_ARM_DISARM_ENABLED) return undefined;
  const commands = createDriverCommands({
    url: config.RABBITMQ_URL, driverId, pool: ctx.pool(), kafka: ctx.kafka(), log: ctx.log, topicPrefix: config.KAFKA_TOPIC_PREFIX,
    quorum: config.NODE_ENV === 'production', interruptedAfterMs: interruptedAfterMs(config),
  });
  await commands.start();
  return commands;
}

/** The gateway's command routes: always registered (a disabled flag answers 403), publishing only when enabled. */
export async function gatewayCommands(ctx: RoleContext): Promise<{ options: CommandApiOptions; close(): Promise<void> }> {
  const { config } = ctx;
  const base = { enabled: config.FEATURE_ARM_DISARM_ENABLED, operatorAllowed: config.COMMANDS_OPERATOR_ALLOWED, defaultTtlS: config.COMMANDS_TTL_S };
  if (!config.FEATURE_ARM_DISARM_ENABLED) return { options: base, close: () => Promise.resolve() };
  const publisher = await createCommandPublisher({
    url: config.RABBITMQ_URL, log: ctx.log, quorum: config.NODE_ENV === 'production', timeoutMs: config.COMMANDS_PUBLISH_TIMEOUT_MS,
  });
  ctx.checks.push({ name: 'rabbitmq', check: () => publisher.check() });
  return { options: { ...base, publisher }, close: () => publisher.close() };
}
