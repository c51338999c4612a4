import type { Kafka } from 'kafkajs';
import type { ConsumerRange } from '../consumer.ts';

export interface ReplayRange {
  range: ConsumerRange;
  /** Messages in the range, all topics and partitions. */
  messages: number;
  /** What the analyst must know about the range: the part of it the topics no longer hold. */
  notes: string[];
}

const DAY = 86_400_000;

/**
 * The offsets of [fromMs, toMs) in each partition of the topics, by message time stamp (the broker's
 * offsets-for-times lookup): a replay starts at the first message at or after `fromMs` and stops before
 * the first one at or after `toMs`. When the topics' retention already deleted part of the range, a note
 * says so, with the first instant the topic still holds.
 */
export async function resolveRange(kafka: Kafka, topics: readonly string[], fromMs: number, toMs: number, nowMs = Date.now()): Promise<ReplayRange> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const range: ConsumerRange = { start: {}, end: {} };
    const notes: string[] = [];
    let messages = 0;
    const configs = await admin.describeConfigs({ includeSynonyms: false, resources: topics.map((name) => ({ type: 2 /* TOPIC */, name, configNames: ['retention.ms'] })) });
    for (const topic of topics) {
      const [watermarks, starts, ends] = await Promise.all([
        admin.fetchTopicOffsets(topic), admin.fetchTopicOffsetsByTimestamp(topic, fromMs), admin.fetchTopicOffsetsByTimestamp(topic, toMs),
      ]);
      range.start[topic] = {};
      range.end[topic] = {};
      for (const w of watermarks) {
        const high = Number(w.high);
        // A time after the last message gives -1 (or the high watermark): the range reaches the end of the partition.
        const at = (list: { partition: number; offset: string }[]) => {
          const o = Number(list.find((x) => x.partition === w.partition)?.offset ?? -1);
          return o < 0 ? high : Math.min(o, high);
        };
        const start = Math.max(at(starts), Number(w.low));
        const end = Math.max(start, at(ends));
        range.start[topic][w.partition] = start;
        range.end[topic][w.partition] = end;
        messages += end - start;
      }
      const retention = Number(configs.resources.find((r) => r.resourceName === topic)?.configEntries.find((e) => e.configName === 'retention.ms')?.configValue ?? -1);
      const deleted = watermarks.some((w) => Number(w.low) > 0);
      if (retention > 0 && deleted && fromMs < nowMs - retention) {
        notes.push(`${topic} keeps ${Math.round(retention / DAY * 10) / 10} days: events before ${new Date(nowMs - retention).toISOString()} are no longer in it, `
          + `so the replay of ${new Date(fromMs).toISOString()} … starts with the oldest event it still holds`);
      }
    }
    return { range, messages, notes };
  } finally {
    await admin.disconnect();
  }
}
