import type { Message as KafkaMessage } from 'kafkajs';
import type { Producer } from '../../../platform/index.ts';
import { metrics as m } from './metrics.ts';

interface Waiting { topic: string; messages: KafkaMessage[]; resolve: () => void; reject: (e: Error) => void }

export interface BatchingProducer {
  /** Resolves once the broker acknowledged these messages (acks -1); rejects if it did not. */
  send(topic: string, messages: KafkaMessage[]): Promise<void>;
  /** Waits for batches in flight. */
  drain(): Promise<void>;
}

/**
 * Many panels, one producer: sends arriving within `lingerMs` of each other go to the broker as one
 * request (kafkajs sendBatch, acks -1) instead of one request per panel and poll cycle. Each caller's
 * promise settles with its batch, so a poller still advances its cursor only after its own messages were
 * acknowledged, and never has two sends in flight (per-panel order holds).
 */
export function createBatchingProducer(producer: Producer, opts: { lingerMs?: number; maxMessages?: number } = {}): BatchingProducer {
  const lingerMs = opts.lingerMs ?? 2;
  const maxMessages = opts.maxMessages ?? 5_000;
  let queue: Waiting[] = [];
  let queued = 0;
  let timer: NodeJS.Timeout | undefined;
  const inFlight = new Set<Promise<void>>();

  function flush(): void {
    clearTimeout(timer);
    timer = undefined;
    const batch = queue;
    queue = [];
    queued = 0;
    if (batch.length === 0) return;
    const byTopic = new Map<string, KafkaMessage[]>();
    for (const w of batch) {
      const list = byTopic.get(w.topic);
      if (list) list.push(...w.messages);
      else byTopic.set(w.topic, [...w.messages]);
    }
    const started = process.hrtime.bigint();
    const p = producer.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) }).then(
      () => {
        const s = Number(process.hrtime.bigint() - started) / 1e9;
        for (const topic of byTopic.keys()) m.produceSeconds.observe({ topic }, s);
        for (const w of batch) w.resolve();
      },
      (err: Error) => {
        for (const topic of byTopic.keys()) m.produceErrors.inc({ topic });
        for (const w of batch) w.reject(err);
      },
    ).finally(() => inFlight.delete(p));
    inFlight.add(p);
  }

  return {
    send(topic, messages) {
      if (messages.length === 0) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        queue.push({ topic, messages, resolve, reject });
        queued += messages.length;
        if (queued >= maxMessages) flush();
        else timer ??= setTimeout(flush, lingerMs);
      });
    },
    async drain() {
      flush();
      await Promise.allSettled([...inFlight]);
    },
  };
}
