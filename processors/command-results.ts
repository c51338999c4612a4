import type { Kafka } from 'kafkajs';
import { RESULT_STAGE_HEADER, recordCommandResult, type RecordOutcome } from '../commands/index.ts';
import { counter, type KafkaMessage, type Logger, type Pool, type PoolClient, type Producer } from '../platform/index.ts';
import { codecFor, topicName, type CommandResult } from '../schemas/index.ts';
import { createTransactionalConsumer, deadLetter, type Chunk } from './consumer.ts';
import { pgStore } from './consumer-store.ts';

const m = {
  results: counter('stam_command_results_total', 'command results read by the command processor, by outcome', ['outcome']),
};

/** Results come in ones and twos; a chunk this large only forms after an outage. */
const MAX_BATCH = 1000;

export interface CommandResultsProcessorOptions {
  kafka: Kafka;
  /** Dead letters go out through it. */
  producer: Producer;
  pool: Pool;
  log: Logger;
  groupId: string;
  topicPrefix: string;
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
}

const stageOf = (msg: KafkaMessage): string => {
  const v = msg.headers?.[RESULT_STAGE_HEADER];
  return v === undefined ? '' : String(Array.isArray(v) ? v[0] : v);
};

/**
 * Consumes `command.results.v1` (the `reported` stage; `final` is its own output relayed back) through the
 * transactional consumer and writes each command's one terminal state to `commands`, with an outbox row and
 * an audit row, committing the partition offset in the same transaction (a crash replays the chunk, and the
 * first-wins update makes the replay change nothing). Undecodable or refused results go to the topic's DLQ.
 */
export function createCommandResultsProcessor(opts: CommandResultsProcessorOptions) {
  const { log } = opts;
  const topic = topicName('command.results.v1', opts.topicPrefix);
  const codec = codecFor('CommandResult');

  const decode = (_topic: string, message: KafkaMessage): CommandResult | null => {
    if (stageOf(message) === 'final') { m.results.inc({ outcome: 'final_skipped' }); return null; }
    return codec.decode(message.value!);
  };

  async function apply(db: PoolClient, chunk: Chunk<CommandResult>): Promise<RecordOutcome[]> {
    const outcomes: RecordOutcome[] = [];
    for (const { value } of chunk.items) outcomes.push(await recordCommandResult(db, value, 'command-processor'));
    return outcomes;
  }

  function committed(chunk: Chunk<CommandResult>, outcomes: RecordOutcome[]): void {
    outcomes.forEach((o, i) => {
      m.results.inc({ outcome: o });
      const r = chunk.items[i]!.value;
      if (o === 'recorded') log.info({ command: r.command_id, panel: r.panel_id, status: r.status, reason: r.reason }, 'command result recorded');
      if (o === 'conflict') log.warn({ command: r.command_id, status: r.status }, 'a later, different result for a command that already ended was ignored');
      if (o === 'unknown') log.warn({ command: r.command_id, panel: r.panel_id }, 'result for an unknown command ignored');
    });
  }

  const dlq = deadLetter(opts.producer, log);
  return createTransactionalConsumer<CommandResult, RecordOutcome[], PoolClient>({
    name: 'command results processor', kafka: opts.kafka, store: pgStore(opts.pool), log, groupId: opts.groupId, topics: [topic],
    decode, apply, committed,
    badMessages: async (bad) => { await dlq(bad); m.results.inc({ outcome: 'dead_lettered' }, bad.length); },
    maxBatch: MAX_BATCH,
    maxWaitTimeInMs: 50,
    ...(opts.sessionTimeoutMs ? { sessionTimeoutMs: opts.sessionTimeoutMs } : {}),
    ...(opts.heartbeatIntervalMs ? { heartbeatIntervalMs: opts.heartbeatIntervalMs } : {}),
  });
}

export type CommandResultsProcessor = ReturnType<typeof createCommandResultsProcessor>;
