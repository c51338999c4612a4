import type { ConfirmChannel } from 'amqplib';
import { counter, histogram, sleep, type Logger } from '../platform/index.ts';
import { openAmqpLink, type AmqpLink } from './amqp.ts';
import { COMMANDS_EXCHANGE, encodeCommand, type CommandMessage } from './contract.ts';
import { declareCommandTopology } from './topology.ts';

const m = {
  published: counter('stam_commands_published_total', 'commands handed to RabbitMQ, by outcome', ['outcome']),
  confirmSeconds: histogram('stam_commands_confirm_seconds', 'publish → broker confirm of a command', [], [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5]),
};

/**
 * - `confirmed`: the broker took responsibility (persisted, routed to a driver queue or to commands.dead).
 * - not confirmed, `written: false`: no copy ever left this process; the command can be failed safely.
 * - not confirmed, `written: true`: a copy may be on its way; only the driver or the sweeper can tell.
 */
export type PublishOutcome = { confirmed: true; attempts: number } | { confirmed: false; written: boolean; reason: string };

export interface CommandPublisher {
  publish(cmd: CommandMessage): Promise<PublishOutcome>;
  readonly connected: boolean;
  /** Readiness: rejects while RabbitMQ is away. */
  check(): Promise<void>;
  close(): Promise<void>;
}

export interface CommandPublisherOptions {
  url: string;
  log: Logger;
  quorum: boolean;
  /** How long publish() keeps trying (over reconnects) before giving up; never past the command's expiry. */
  timeoutMs: number;
  /** Resolve only after the first connection (tests); default false. */
  waitForConnect?: boolean;
}

function publishConfirmed(ch: ConfirmChannel, cmd: CommandMessage, timeoutMs: number): Promise<void> {
  const e = encodeCommand(cmd, Date.now());
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no confirm within ${timeoutMs} ms`)), timeoutMs);
    ch.publish(COMMANDS_EXCHANGE, e.routingKey, e.content, e.options, (err: unknown) => {
      clearTimeout(t);
      if (err) reject(err instanceof Error ? err : new Error('broker refused the command (nack)'));
      else resolve();
    });
  });
}

/**
 * The API side: publishes a command with publisher confirms, retrying over reconnects until confirmed or
 * the publish timeout. Publishing twice is harmless — the driver's execution ledger answers a second copy
 * from memory — so an unconfirmed attempt is simply repeated.
 */
export async function createCommandPublisher(opts: CommandPublisherOptions): Promise<CommandPublisher> {
  const { log } = opts;
  const link: AmqpLink = await openAmqpLink({
    url: opts.url, name: 'commands-publisher', log, waitForConnect: opts.waitForConnect ?? false,
    setup: (ch) => declareCommandTopology(ch, { quorum: opts.quorum }),
  });

  return {
    get connected() { return link.channel !== undefined; },
    async check() {
      if (!link.channel) throw new Error(link.setupError ? `RabbitMQ topology refused: ${link.setupError}` : 'RabbitMQ not connected');
      await link.channel.checkExchange(COMMANDS_EXCHANGE);
    },
    async publish(cmd) {
      const until = Math.min(Date.now() + opts.timeoutMs, cmd.expires_at);
      let written = false;
      let reason = 'RabbitMQ not connected';
      for (let attempt = 1; Date.now() < until; attempt++) {
        const ch = await link.waitForChannel(until - Date.now());
        if (!ch) break;
        const started = performance.now();
        try {
          await publishConfirmed(ch, cmd, Math.max(1, until - Date.now()));
          m.confirmSeconds.observe((performance.now() - started) / 1000);
          m.published.inc({ outcome: 'confirmed' });
          return { confirmed: true, attempts: attempt };
        } catch (err) {
          reason = (err as Error).message;
          // A publish on a channel that was already closed throws before anything is sent; anything else may have left.
          if ((err as Error).name !== 'IllegalOperationError') written = true;
          log.warn({ command: cmd.command_id, attempt, err: reason }, 'command not confirmed by RabbitMQ; retrying');
          await sleep(Math.min(200, Math.max(0, until - Date.now())));
        }
      }
      m.published.inc({ outcome: written ? 'unconfirmed' : 'not_sent' });
      return { confirmed: false, written, reason };
    },
    close: () => link.close(),
  };
}
