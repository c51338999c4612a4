import type { Kafka } from 'kafkajs';
import { RESULT_STAGE_HEADER, recordCommandResult, type RecordOutcome } from '../commands/index.ts';
import {
  backoffMs, counter, inTransaction, isPoison, sendToDlq, sleep, StamError,
  type DeadLetter, type EachBatchPayload, type KafkaMessage, type Logger, type Pool, type Producer,
} from '../platform/index.ts';
import { codecFor, topicName, type CommandResult } from '../schemas/index.ts';

const m = {
  results: counter('stam_command_results_total', 'command results read by the command processor, by outcome', ['outcome']),
};

export interface CommandResultsProcessorOptions {
  kafka: Kafka;
  producer: Producer;
  pool: Pool;
  log: Logger;
  groupId: string;
  topicPrefix: string;
}

const stageOf = (msg: KafkaMessage): string => {
  const v = msg.headers?.[RESULT_STAGE_HEADER];
  return v === undefined ? '' : String(Array.isArray(v) ? v[0] : v);
};

/**
 * Consumes `command.results.v1` (the `reported` stage; `final` is its own output relayed back) and writes
 * each command's one terminal state to `commands`, with an outbox row and an audit row, committing the
 * partition offset in the same transaction (like the alarm processor: a crash replays the batch, and the
 * first-wins update makes the replay change nothing). Undecodable messages go to the topic's DLQ.
 */
export function createCommandResultsProcessor(opts: CommandResultsProcessorOptions) {
  const { kafka, producer, pool, log } = opts;
  const topic = topicName('command.results.v1', opts.topicPrefix);
  const codec = codecFor('CommandResult');
  const consumer = kafka.consumer({ groupId: opts.groupId, sessionTimeout: 30_000, heartbeatInterval: 3_000, maxWaitTimeInMs: 50, retry: { retries: 10 } });
  const abort = new AbortController();

  async function seekToStoredOffsets(assignment: Record<string, number[]>): Promise<void> {
    const { rows } = await pool.query<{ partition: number; next_offset: number }>(
      'SELECT partition, next_offset FROM consumer_offsets WHERE group_id = $1 AND topic = $2', [opts.groupId, topic]);
    for (const r of rows) if (assignment[topic]?.includes(r.partition)) consumer.seek({ topic, partition: r.partition, offset: String(r.next_offset) });
  }

  /** Records the results and moves the partition's stored offset past `lastOffset`, in one transaction. */
  async function apply(partition: number, results: CommandResult[], lastOffset: string | undefined): Promise<RecordOutcome[]> {
    return inTransaction(pool, async (db) => {
      const outcomes: RecordOutcome[] = [];
      for (const r of results) outcomes.push(await recordCommandResult(db, r, 'command-processor'));
      if (lastOffset !== undefined) {
        await db.query(
          `INSERT INTO consumer_offsets (group_id, topic, partition, next_offset) VALUES ($1, $2, $3, $4)
           ON CONFLICT (group_id, topic, partition) DO UPDATE SET next_offset = EXCLUDED.next_offset, updated_at = now()
           WHERE consumer_offsets.next_offset < EXCLUDED.next_offset`,
          [opts.groupId, topic, partition, Number(lastOffset) + 1],
        );
      }
      return outcomes;
    });
  }

  function count(results: CommandResult[], outcomes: RecordOutcome[]): void {
    outcomes.forEach((o, i) => {
      m.results.inc({ outcome: o });
      const r = results[i]!;
      if (o === 'recorded') log.info({ command: r.command_id, panel: r.panel_id, status: r.status, reason: r.reason }, 'command result recorded');
      if (o === 'conflict') log.warn({ command: r.command_id, status: r.status }, 'a later, different result for a command that already ended was ignored');
      if (o === 'unknown') log.warn({ command: r.command_id, panel: r.panel_id }, 'result for an unknown command ignored');
    });
  }

  /** A batch the database refuses: each result on its own, the ones it still refuses dead-lettered with the reason. */
  async function isolate(partition: number, items: { message: KafkaMessage; result: CommandResult }[], lastOffset: string): Promise<void> {
    for (const { message, result } of items) {
      try {
        count([result], await apply(partition, [result], undefined));
      } catch (err) {
        if (!isPoison(err)) throw err;
        await sendToDlq(producer, `${topic}.dlq`, [{ sourceTopic: topic, partition, message, code: 'E_EVENT_INVALID', reason: `refused by the database: ${(err as Error).message}` }]);
        m.results.inc({ outcome: 'dead_lettered' });
        log.error({ offset: message.offset, err: (err as Error).message }, 'command result refused by the database: dead-lettered');
      }
    }
    await apply(partition, [], lastOffset);
  }

  async function eachBatch({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale }: EachBatchPayload): Promise<void> {
    if (!isRunning() || isStale() || batch.messages.length === 0) return;
    const items: { message: KafkaMessage; result: CommandResult }[] = [];
    const dead: DeadLetter[] = [];
    for (const message of batch.messages) {
      if (stageOf(message) === 'final') { m.results.inc({ outcome: 'final_skipped' }); continue; }
      try {
        if (!message.value) throw new StamError('E_AVRO_MAGIC', 'empty command result');
        items.push({ message, result: codec.decode(message.value) });
      } catch (err) {
        dead.push({ sourceTopic: topic, partition: batch.partition, message, code: (err as { code?: string }).code ?? 'E_AVRO_DECODE', reason: (err as Error).message });
      }
    }
    if (dead.length > 0) {
      await sendToDlq(producer, `${topic}.dlq`, dead);
      m.results.inc({ outcome: 'dead_lettered' }, dead.length);
      for (const d of dead) log.warn({ offset: d.message.offset, code: d.code, reason: d.reason }, 'command result dead-lettered');
    }
    const lastOffset = batch.messages[batch.messages.length - 1]!.offset;
    const results = items.map((i) => i.result);
    for (let attempt = 0; ; attempt++) {
      try {
        count(results, await apply(batch.partition, results, lastOffset));
        break;
      } catch (err) {
        if (abort.signal.aborted) throw err;
        if (isPoison(err)) { await isolate(batch.partition, items, lastOffset); break; }
        const wait = backoffMs(attempt, 250, 10_000);
        log.warn({ err: (err as Error).message, attempt, waitMs: wait }, 'command results not recorded (database away?); retrying');
        await sleep(wait, abort.signal);
        await heartbeat().catch(() => undefined);
      }
    }
    resolveOffset(lastOffset);
    await commitOffsetsIfNecessary();
  }

  return {
    consumer,
    async start(): Promise<void> {
      await consumer.connect();
      consumer.on(consumer.events.GROUP_JOIN, (e) => {
        void seekToStoredOffsets(e.payload.memberAssignment).catch((err: Error) => log.error({ err: err.message }, 'could not seek to stored offsets'));
      });
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await consumer.run({ eachBatchAutoResolve: false, autoCommit: true, eachBatch });
      log.info({ topic, groupId: opts.groupId }, 'command results processor consuming');
    },
    async stop(): Promise<void> {
      abort.abort();
      await consumer.disconnect();
    },
  };
}

export type CommandResultsProcessor = ReturnType<typeof createCommandResultsProcessor>;
