import amqp, { type ConfirmChannel } from 'amqplib';
import type { Logger } from '../platform/index.ts';

/**
 * One RabbitMQ connection with one confirm channel, kept alive: amqplib's connection recovery reconnects
 * with backoff (0.2 → 5 s) and `setup` runs again on every new channel (declare the topology, bind, consume),
 * so a broker restart costs a reconnect, not a process restart. A channel closed by the broker (e.g. a
 * declaration mismatch) takes the connection down with it, so it recovers the same way.
 */
export interface AmqpLink {
  /** The current channel; undefined while disconnected. */
  readonly channel: ConfirmChannel | undefined;
  /** Why the link is down, when the broker refused the setup (e.g. a queue declared with other arguments). */
  readonly setupError: string | undefined;
  /** The channel, waiting up to `timeoutMs` for a (re)connection; undefined when none came. */
  waitForChannel(timeoutMs: number, signal?: AbortSignal): Promise<ConfirmChannel | undefined>;
  close(): Promise<void>;
}

export interface AmqpLinkOptions {
  url: string;
  /** For logs and the connection name shown by `rabbitmqctl list_connections`. */
  name: string;
  log: Logger;
  setup: (ch: ConfirmChannel) => Promise<void>;
  /** Called when the channel is lost (before any reconnect). */
  onDown?: () => void;
  /** Resolve only after the first connection (default false: retry in the background). */
  waitForConnect?: boolean;
  heartbeatS?: number;
}

function withHeartbeat(url: string, seconds: number): string {
  const u = new URL(url);
  if (!u.searchParams.has('heartbeat')) u.searchParams.set('heartbeat', String(seconds));
  return u.toString();
}

/** A declaration mismatch says what to do about it; nothing else needs a hint. */
function describeSetupError(err: Error): string {
  if (!/PRECONDITION_FAILED - inequivalent arg 'x-queue-type'/.test(err.message)) return err.message;
  return `${err.message} — the queue exists with another type: NODE_ENV=production declares quorum queues, other modes classic ones; ` +
    'delete the queue (rabbitmqctl delete_queue NAME) once it is empty, or run in the mode that created it';
}

export async function openAmqpLink(opts: AmqpLinkOptions): Promise<AmqpLink> {
  const log = opts.log.child({ amqp: opts.name });
  let current: ConfirmChannel | undefined;
  let setupError: string | undefined;
  let closing = false;
  let waiters: (() => void)[] = [];
  const wake = () => { const w = waiters; waiters = []; for (const f of w) f(); };

  const model = await amqp.connect(withHeartbeat(opts.url, opts.heartbeatS ?? 10), {
    clientProperties: { connection_name: `stam-${opts.name}` },
    recovery: {
      initialDelay: 200, maxDelay: 5_000, waitForConnect: false,
      setup: async (m: amqp.ChannelModel) => {
        const ch = await m.createConfirmChannel();
        ch.on('error', (err: Error) => log.warn({ err: err.message }, 'RabbitMQ channel error'));
        ch.on('close', () => {
          if (current !== ch) return;
          current = undefined;
          opts.onDown?.();
          if (!closing) void m.close().catch(() => undefined); // recovery reconnects and runs setup again
        });
        try {
          await opts.setup(ch);
        } catch (err) {
          const reason = describeSetupError(err as Error);
          // Said once as an error; the same refusal on every retry (up to every 5 s) only at debug.
          if (reason !== setupError) log.error({ err: reason }, 'RabbitMQ refused the topology; retrying');
          else log.debug({ err: reason }, 'RabbitMQ still refuses the topology');
          setupError = reason;
          throw err;
        }
        setupError = undefined;
        current = ch;
        log.info('RabbitMQ channel ready');
        wake();
      },
    },
  });
  model.on('disconnect', (err: Error) => {
    if (current) { current = undefined; opts.onDown?.(); }
    if (!closing) log.warn({ err: err.message }, 'RabbitMQ connection lost; reconnecting');
  });
  model.on('connect-failed', (err: Error) => { if (!closing) log.warn({ err: err.message }, 'RabbitMQ connection attempt failed; retrying'); });
  model.on('error', (err: Error) => log.warn({ err: err.message }, 'RabbitMQ connection error'));
  if (opts.waitForConnect) await model.waitForConnect();

  return {
    get channel() { return current; },
    get setupError() { return setupError; },
    waitForChannel(timeoutMs, signal) {
      if (current || timeoutMs <= 0 || closing) return Promise.resolve(current);
      return new Promise((resolve) => {
        const done = () => { clearTimeout(t); signal?.removeEventListener('abort', done); waiters = waiters.filter((w) => w !== done); resolve(current); };
        const t = setTimeout(done, timeoutMs);
        signal?.addEventListener('abort', done, { once: true });
        waiters.push(done);
      });
    },
    async close() {
      closing = true;
      wake();
      const ch = current;
      current = undefined;
      await ch?.close().catch(() => undefined);
      await model.close().catch(() => undefined);
    },
  };
}
