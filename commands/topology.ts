import type { Channel } from 'amqplib';
import { COMMANDS_DEAD_QUEUE, COMMANDS_DLX, COMMANDS_EXCHANGE, COMMANDS_UNROUTABLE, driverQueueName } from './contract.ts';

export interface TopologyOptions {
  /** Quorum queues (production); classic durable queues otherwise. */
  quorum: boolean;
}

/** A driver queue nobody consumed for this long is deleted (a driver that never came back); longer than any command lives. */
export const DRIVER_QUEUE_EXPIRES_MS = 2 * 3600_000;

const quorumArgs = (o: TopologyOptions) =>
  (o.quorum ? { 'x-queue-type': 'quorum', 'x-dead-letter-strategy': 'at-least-once', 'x-overflow': 'reject-publish' } : {});

/**
 * Exchange `commands` (topic) whose unroutable messages go to the alternate exchange `commands.unroutable`
 * (fanout, one queue); what expires there or in a driver queue is dead-lettered to `commands.dlx` (fanout)
 * → `commands.dead`. A message routed through an alternate exchange keeps its per-message expiration, so
 * `commands.unroutable` must dead-letter too, or an unroutable command would vanish while its answerer is
 * away. Every side declares the topology the same way (idempotent), so whoever starts first creates it.
 */
export async function declareCommandTopology(ch: Channel, o: TopologyOptions): Promise<void> {
  await ch.assertExchange(COMMANDS_DLX, 'fanout', { durable: true });
  await ch.assertQueue(COMMANDS_DEAD_QUEUE, { durable: true, arguments: o.quorum ? { 'x-queue-type': 'quorum' } : {} });
  await ch.bindQueue(COMMANDS_DEAD_QUEUE, COMMANDS_DLX, '');
  await ch.assertExchange(COMMANDS_UNROUTABLE, 'fanout', { durable: true });
  await ch.assertQueue(COMMANDS_UNROUTABLE, { durable: true, arguments: { 'x-dead-letter-exchange': COMMANDS_DLX, ...quorumArgs(o) } });
  await ch.bindQueue(COMMANDS_UNROUTABLE, COMMANDS_UNROUTABLE, '');
  await ch.assertExchange(COMMANDS_EXCHANGE, 'topic', { durable: true, alternateExchange: COMMANDS_UNROUTABLE });
}

/**
 * The queue of one driver: durable (a restarted driver with the same SATEL_DRIVER_ID finds the commands it
 * had taken), dead-lettering expired and refused commands to `commands.dlx`. In production a quorum queue
 * with at-least-once dead-lettering, which RabbitMQ only allows together with `x-overflow: reject-publish`.
 */
export async function declareDriverQueue(ch: Channel, driverId: string, o: TopologyOptions & { expiresMs?: number }): Promise<string> {
  const name = driverQueueName(driverId);
  await ch.assertQueue(name, {
    durable: true,
    arguments: {
      'x-dead-letter-exchange': COMMANDS_DLX,
      'x-expires': o.expiresMs ?? DRIVER_QUEUE_EXPIRES_MS,
      ...quorumArgs(o),
    },
  });
  return name;
}
