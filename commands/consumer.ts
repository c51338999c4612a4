import type { ConfirmChannel, ConsumeMessage } from 'amqplib';
import { counter, sleep, type Logger } from '../platform/index.ts';
import { openAmqpLink, type AmqpLink } from './amqp.ts';
import {
  COMMAND_HEADERS, COMMANDS_EXCHANGE, deadlineOf, driverQueueName, forwardsOf, parseCommand, routingKeyFor, type CommandMessage,
} from './contract.ts';
import { declareCommandTopology, declareDriverQueue } from './topology.ts';

const m = {
  deliveries: counter('stam_commands_deliveries_total', 'command deliveries to this driver, by what became of them', ['outcome']),
};

export interface DeliveredCommand {
  cmd: CommandMessage;
  /** Epoch ms: execute only before this. */
  deadline: number;
  redelivered: boolean;
  forwards: number;
}

/** `done`: answered (ack); `not-held`: the panel is not ours (any more): hand it back to the exchange. */
export type HandleOutcome = 'done' | 'not-held';

export interface CommandConsumerOptions {
  url: string;
  driverId: string;
  log: Logger;
  quorum: boolean;
  /** Whether this driver holds the panel's lease now. */
  holds: (panelId: number) => boolean;
  /** Executes or answers one command; resolves once its result is reported. Throwing requeues it (after a pause). */
  handle: (d: DeliveredCommand) => Promise<HandleOutcome>;
  prefetch?: number;
  /** A command handed back more often than this is dead-lettered as undeliverable (default 5). */
  maxForwards?: number;
  queueExpiresMs?: number;
}

export interface CommandConsumer {
  readonly queue: string;
  start(): Promise<void>;
  /** Route `panel.{id}` to this driver's queue (on lease acquisition); kept over reconnects. */
  bind(panelId: number): Promise<void>;
  /** Stop routing `panel.{id}` here (lease lost, panel removed, driver stopping). */
  unbind(panelId: number): Promise<void>;
  /** Stops taking deliveries and waits for those in hand; what is still queued stays for this driver id. */
  stop(): Promise<void>;
}

const safely = (f: () => void): void => { try { f(); } catch { /* channel gone: the broker redelivers */ } };

/**
 * The consuming side of the contract, for the driver that holds panel leases. One durable queue per
 * driver (`commands.driver.{driverId}`) bound to `panel.{id}` for each panel it holds. A delivery for a
 * panel it does not hold (a stale binding, a lease that just moved) is unbound and handed back to the
 * exchange, so it reaches the holder, or the alternate exchange when nobody holds the panel; one past its
 * deadline or handed back too often is dead-lettered instead. Malformed messages are dead-lettered, loudly.
 */
export function createCommandConsumer(opts: CommandConsumerOptions): CommandConsumer {
  const { log, driverId } = opts;
  const quorum = opts.quorum;
  const maxForwards = opts.maxForwards ?? 5;
  const bound = new Set<number>();
  const released = new Set<number>();
  const inflight = new Set<Promise<void>>();
  let link: AmqpLink | undefined;
  const queue = driverQueueName(driverId);
  let stopping = false;
  let consumerTag: { ch: ConfirmChannel; tag: string } | undefined;

  async function forward(ch: ConfirmChannel, msg: ConsumeMessage, cmd: CommandMessage, deadline: number, forwards: number): Promise<void> {
    const left = deadline - Date.now();
    if (left <= 0 || forwards >= maxForwards) {
      m.deliveries.inc({ outcome: left <= 0 ? 'dead_lettered_expired' : 'dead_lettered_forwards' });
      log.warn({ command: cmd.command_id, panel: cmd.panel_id, forwards, expired: left <= 0 }, 'command for a panel this driver does not hold dead-lettered');
      safely(() => ch.nack(msg, false, false));
      return;
    }
    // Drop a stale binding first (e.g. from before a restart), so the command does not come straight back.
    if (!bound.has(cmd.panel_id)) await ch.unbindQueue(queue, COMMANDS_EXCHANGE, routingKeyFor(cmd.panel_id)).catch(() => undefined);
    await new Promise<void>((resolve, reject) => {
      ch.publish(COMMANDS_EXCHANGE, routingKeyFor(cmd.panel_id), msg.content, {
        ...msg.properties, persistent: true, expiration: String(Math.ceil(left)),
        headers: { ...msg.properties.headers, [COMMAND_HEADERS.forwards]: forwards + 1 },
      }, (err: unknown) => (err ? reject(err instanceof Error ? err : new Error('broker refused the forwarded command')) : resolve()));
    });
    m.deliveries.inc({ outcome: 'forwarded' });
    log.info({ command: cmd.command_id, panel: cmd.panel_id, forwards: forwards + 1 }, 'command for a panel this driver does not hold handed back to the exchange');
    safely(() => ch.ack(msg));
  }

  async function onDelivery(ch: ConfirmChannel, msg: ConsumeMessage): Promise<void> {
    let cmd: CommandMessage;
    try {
      cmd = parseCommand(msg.content);
    } catch (err) {
      m.deliveries.inc({ outcome: 'malformed' });
      log.error({ command: msg.properties.headers?.[COMMAND_HEADERS.commandId] as unknown, err: (err as Error).message }, 'malformed command dead-lettered');
      safely(() => ch.nack(msg, false, false));
      return;
    }
    const headers = msg.properties.headers;
    const d: DeliveredCommand = { cmd, deadline: deadlineOf(cmd, headers), redelivered: msg.fields.redelivered, forwards: forwardsOf(headers) };
    try {
      if (!opts.holds(cmd.panel_id) || (await opts.handle(d)) === 'not-held') {
        await forward(ch, msg, cmd, d.deadline, d.forwards);
        return;
      }
      m.deliveries.inc({ outcome: 'answered' });
      safely(() => ch.ack(msg));
    } catch (err) {
      m.deliveries.inc({ outcome: 'requeued' });
      log.error({ command: cmd.command_id, panel: cmd.panel_id, err: (err as Error).message }, 'command could not be answered now; requeued');
      await sleep(1_000);
      safely(() => ch.nack(msg, false, true));
    }
  }

  async function setup(ch: ConfirmChannel): Promise<void> {
    await declareCommandTopology(ch, { quorum });
    await declareDriverQueue(ch, driverId, { quorum, ...(opts.queueExpiresMs ? { expiresMs: opts.queueExpiresMs } : {}) });
    // Bindings are durable: undo what was released while disconnected, (re)do what is held.
    for (const id of released) await ch.unbindQueue(queue, COMMANDS_EXCHANGE, routingKeyFor(id));
    released.clear();
    for (const id of bound) await ch.bindQueue(queue, COMMANDS_EXCHANGE, routingKeyFor(id));
    await ch.prefetch(opts.prefetch ?? 20);
    if (stopping) return;
    const { consumerTag: tag } = await ch.consume(queue, (msg) => {
      if (!msg) { log.warn({ queue }, 'command consumer cancelled by the broker; reconnecting'); void ch.close().catch(() => undefined); return; }
      const p = onDelivery(ch, msg).catch((err: Error) => log.error({ err: err.message }, 'command delivery failed'));
      inflight.add(p);
      void p.finally(() => inflight.delete(p));
    }, { noAck: false });
    consumerTag = { ch, tag };
  }

  return {
    queue,
    async start() {
      link = await openAmqpLink({ url: opts.url, name: `commands-${driverId}`, log, setup, waitForConnect: false });
      log.info({ queue, panels: bound.size }, 'command consumer started');
    },
    async bind(panelId) {
      bound.add(panelId);
      released.delete(panelId);
      await link?.channel?.bindQueue(queue, COMMANDS_EXCHANGE, routingKeyFor(panelId))
        .catch((err: Error) => log.warn({ panel: panelId, err: err.message }, 'command binding deferred to the reconnect'));
    },
    async unbind(panelId) {
      bound.delete(panelId);
      released.add(panelId);
      const ch = link?.channel;
      if (!ch) return;
      try {
        await ch.unbindQueue(queue, COMMANDS_EXCHANGE, routingKeyFor(panelId));
        released.delete(panelId);
      } catch (err) {
        log.warn({ panel: panelId, err: (err as Error).message }, 'command unbinding deferred to the reconnect');
      }
    },
    async stop() {
      stopping = true;
      if (consumerTag && link?.channel === consumerTag.ch) await consumerTag.ch.cancel(consumerTag.tag).catch(() => undefined);
      await Promise.allSettled([...inflight]);
      await link?.close();
    },
  };
}
