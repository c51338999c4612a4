import type { ConfirmChannel, ConsumeMessage } from 'amqplib';
import { counter, sleep, type Logger } from '../platform/index.ts';
import type { CommandResult } from '../schemas/index.ts';
import { openAmqpLink, type AmqpLink } from './amqp.ts';
import {
  COMMAND_HEADERS, COMMANDS_DEAD_QUEUE, COMMANDS_UNROUTABLE, commandResult, deadlineOf, forwardsOf, parseCommand, type CommandMessage,
} from './contract.ts';
import type { CommandLedger } from './ledger.ts';
import type { ResultReporter } from './results.ts';
import { declareCommandTopology } from './topology.ts';

const m = {
  deadLetters: counter('stam_commands_dead_letters_total', 'commands that reached commands.dead, by why', ['why']),
};

/** Why a command reached `commands.dead`, in words for the operator. */
export function deadLetterReason(cmd: CommandMessage, headers: Record<string, unknown> | undefined, nowMs: number): { why: string; text: string } {
  const deaths = headers?.['x-death'];
  const death = Array.isArray(deaths) ? (deaths[0] as { reason?: unknown; queue?: unknown } | undefined) : undefined;
  const deadline = deadlineOf(cmd, headers);
  const late = `deadline ${new Date(deadline).toISOString()}`;
  if (!death || death.queue === COMMANDS_UNROUTABLE) return { why: 'unroutable', text: `undeliverable: no driver holds panel ${cmd.panel_id} (nothing executed)` };
  switch (String(death.reason)) {
    case 'expired':
      return { why: 'expired', text: `expired in the queue before a driver took it (${late}); never executed` };
    case 'rejected':
      return nowMs >= deadline
        ? { why: 'expired', text: `expired before a driver could execute it (${late}); never executed` }
        : { why: 'refused', text: `undeliverable: handed back ${forwardsOf(headers)} times, no driver holds panel ${cmd.panel_id} (nothing executed)` };
    default:
      return { why: String(death.reason), text: `undeliverable: dropped by queue ${String(death.queue)} (${String(death.reason)}); never executed` };
  }
}

export interface DeadLetterConsumerOptions {
  url: string;
  log: Logger;
  quorum: boolean;
  ledger: CommandLedger;
  report: ResultReporter;
  /** A claim older than this without a result is an interrupted execution (a driver died with the command). */
  interruptedAfterMs: number;
}

/**
 * Answers what reaches `commands.unroutable` (no driver holds the panel) and `commands.dead` (expired in a
 * queue, or refused by a driver). The execution ledger decides: an answer already recorded (a driver executed
 * another copy) is reported again; a claim without an answer, once it is old enough, is an interrupted
 * execution → FAILED, outcome unknown, never repeated; otherwise the command never ran → EXPIRED with the
 * reason. Malformed messages are logged and counted, then dropped (there is no command to answer).
 */
export function createDeadLetterConsumer(opts: DeadLetterConsumerOptions) {
  const { log, ledger } = opts;
  const inflight = new Set<Promise<void>>();
  let link: AmqpLink | undefined;
  let stopping = false;
  const abort = new AbortController();

  async function settle(cmd: CommandMessage, headers: Record<string, unknown> | undefined): Promise<CommandResult | undefined> {
    const { why, text } = deadLetterReason(cmd, headers, Date.now());
    m.deadLetters.inc({ why });
    for (;;) {
      const exec = await ledger.read(cmd.command_id);
      if (exec?.result) return exec.result;
      if (!exec) return ledger.settle(commandResult(cmd, 'EXPIRED', text), 'dead-letter');
      if (abort.signal.aborted) throw new Error('stopping before the interrupted execution could be settled');
      const wait = exec.startedAt + opts.interruptedAfterMs - Date.now();
      if (wait <= 0) {
        return ledger.settle(commandResult(cmd, 'FAILED',
          `interrupted: driver ${exec.driverId} took the command at ${new Date(exec.startedAt).toISOString()} and never answered; outcome unknown, not repeated`), 'dead-letter');
      }
      await sleep(wait, abort.signal);
    }
  }

  async function onDelivery(ch: ConfirmChannel, msg: ConsumeMessage): Promise<void> {
    let cmd: CommandMessage;
    try {
      cmd = parseCommand(msg.content);
    } catch (err) {
      m.deadLetters.inc({ why: 'malformed' });
      log.error({ command: msg.properties.headers?.[COMMAND_HEADERS.commandId] as unknown, err: (err as Error).message }, 'malformed dead-lettered command dropped');
      ch.ack(msg);
      return;
    }
    try {
      const result = await settle(cmd, msg.properties.headers);
      if (!result) log.warn({ command: cmd.command_id, panel: cmd.panel_id }, 'dead-lettered command unknown to the database: not answered');
      else {
        await opts.report(result);
        log.info({ command: cmd.command_id, panel: cmd.panel_id, status: result.status, reason: result.reason }, 'dead-lettered command answered');
      }
      ch.ack(msg);
    } catch (err) {
      log.error({ command: cmd.command_id, err: (err as Error).message }, 'dead-lettered command not answered yet; requeued');
      await sleep(1_000, abort.signal);
      try { ch.nack(msg, false, true); } catch { /* channel gone: redelivered */ }
    }
  }

  return {
    async start(): Promise<void> {
      link = await openAmqpLink({
        url: opts.url, name: 'commands-dead-letters', log, waitForConnect: false,
        setup: async (ch) => {
          await declareCommandTopology(ch, { quorum: opts.quorum });
          await ch.prefetch(20);
          if (stopping) return;
          for (const queue of [COMMANDS_UNROUTABLE, COMMANDS_DEAD_QUEUE]) {
            await ch.consume(queue, (msg) => {
              if (!msg) { void ch.close().catch(() => undefined); return; }
              const p = onDelivery(ch, msg).catch((err: Error) => log.error({ err: err.message }, 'dead letter failed'));
              inflight.add(p);
              void p.finally(() => inflight.delete(p));
            }, { noAck: false });
          }
        },
      });
      log.info({ queues: [COMMANDS_UNROUTABLE, COMMANDS_DEAD_QUEUE] }, 'command dead-letter consumer started');
    },
    async stop(): Promise<void> {
      stopping = true;
      abort.abort();
      await Promise.allSettled([...inflight]);
      await link?.close();
    },
  };
}

export type DeadLetterConsumer = ReturnType<typeof createDeadLetterConsumer>;
