import { Command } from 'commander';
import { createProducer } from '../platform/index.ts';
import { readDeadLetters, readSetAsideRows, replayDeadLetters, requeueSetAsideRows, type DeadLetterRecord, type SetAsideRow } from '../processors/index.ts';
import { TOPICS, topicName, type TopicBase } from '../schemas/index.ts';
import { roleContext } from './context.ts';

/** Outbox rows the relay set aside are listed and re-queued under this name, next to the topics. */
const OUTBOX = 'outbox';

function dlqTopics(prefix: string, only?: string): string[] {
  const bases = Object.keys(TOPICS) as TopicBase[];
  if (only === OUTBOX) return [];
  if (only && !bases.includes(only as TopicBase)) throw new Error(`unknown topic ${only}; one of ${[...bases, OUTBOX].join(', ')}`);
  return (only ? [only as TopicBase] : bases).map((b) => topicName(TOPICS[b].dlq, prefix));
}

function line(r: DeadLetterRecord): string {
  return `${r.dlqTopic}@${r.partition}:${r.offset}  ${r.code.padEnd(22)} from ${r.sourceTopic}@${r.sourcePartition}:${r.sourceOffset}  ${r.deadLetteredAt}  ${r.reason}`;
}

function outboxLine(r: SetAsideRow): string {
  return `${OUTBOX}#${r.id}  ${r.code.padEnd(22)} ${r.kind} key ${r.key}  ${r.failedAt}  ${r.reason}`;
}

async function withKafka(fn: (ctx: ReturnType<typeof roleContext>) => Promise<void>): Promise<void> {
  const ctx = roleContext('dlq');
  try {
    await fn(ctx);
  } catch (err) {
    process.stderr.write(`stam dlq: ${(err as Error).message}\n`);
    process.exitCode = 1;
  } finally {
    await ctx.close();
  }
}

/** `stam dlq list|show|replay`: inspect dead letters and re-inject them once the cause is fixed. */
export function dlqCommand(): Command {
  const dlq = new Command('dlq').description('inspect and re-inject dead-lettered messages');
  dlq.command('list').description('every dead letter with its error code, source and reason')
    .option('--topic <base>', `only this source topic, e.g. satel.events.v1 (or ${OUTBOX}: outbox rows the relay set aside)`)
    .action((o: { topic?: string }) => withKafka(async (ctx) => {
      let n = 0;
      for (const t of dlqTopics(ctx.config.KAFKA_TOPIC_PREFIX, o.topic)) {
        for (const r of await readDeadLetters(ctx.kafka(), t)) { process.stdout.write(`${line(r)}\n`); n++; }
      }
      if (o.topic === undefined || o.topic === OUTBOX) {
        for (const r of await readSetAsideRows(ctx.pool())) { process.stdout.write(`${outboxLine(r)}\n`); n++; }
      }
      process.stdout.write(`${n} dead letter(s)\n`);
    }));
  dlq.command('show <topic> <offset>').description('headers and bytes of one dead letter (topic = source base name)')
    .option('--partition <p>', 'partition of the dead-letter topic', '0')
    .action((topic: string, offset: string, o: { partition: string }) => withKafka(async (ctx) => {
      const [t] = dlqTopics(ctx.config.KAFKA_TOPIC_PREFIX, topic);
      const r = (await readDeadLetters(ctx.kafka(), t!)).find((x) => x.offset === offset && x.partition === Number(o.partition));
      if (!r) throw new Error(`no dead letter at ${t}@${o.partition}:${offset}`);
      const headers = Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, String(v)]));
      process.stdout.write(`${JSON.stringify({ ...r, key: r.key?.toString('utf8') ?? null, value: r.value?.toString('hex') ?? null, headers }, null, 2)}\n`);
    }));
  dlq.command('replay <topic>').description(`re-inject dead letters of a source topic into it (deduplicated downstream); ${OUTBOX}: put set-aside rows back in line for the relay`)
    .option('--offset <n>', `only this dead letter (${OUTBOX}: this row id)`)
    .option('--code <code>', 'only dead letters with this error code')
    .action((topic: string, o: { offset?: string; code?: string }) => withKafka(async (ctx) => {
      if (topic === OUTBOX) {
        const n = await requeueSetAsideRows(ctx.pool(), { ...(o.offset ? { id: Number(o.offset) } : {}), ...(o.code ? { code: o.code } : {}) });
        ctx.log.info({ requeued: n }, 'set-aside outbox rows put back in line');
        process.stdout.write(`${n} dead letter(s) replayed into ${OUTBOX}\n`);
        return;
      }
      const [t] = dlqTopics(ctx.config.KAFKA_TOPIC_PREFIX, topic);
      const picked = (await readDeadLetters(ctx.kafka(), t!)).filter((r) => (o.offset === undefined || r.offset === o.offset) && (o.code === undefined || r.code === o.code));
      const producer = await createProducer(ctx.kafka());
      try {
        const n = await replayDeadLetters(producer, picked);
        ctx.log.info({ topic: t, replayed: n }, 'dead letters replayed');
        process.stdout.write(`${n} dead letter(s) replayed into ${topic}\n`);
      } finally {
        await producer.disconnect();
      }
    }));
  return dlq;
}
