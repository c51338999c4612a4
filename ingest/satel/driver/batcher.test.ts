import { describe, expect, it } from 'vitest';
import type { Producer } from '../../../platform/index.ts';
import { createBatchingProducer } from './batcher.ts';

type Batch = { acks: number; topicMessages: { topic: string; messages: { key: string; value: string }[] }[] };

function fakeProducer(fail = false) {
  const batches: Batch[] = [];
  const producer = {
    sendBatch: (b: Batch) => { batches.push(b); return fail ? Promise.reject(new Error('broker away')) : Promise.resolve([]); },
  } as unknown as Producer;
  return { producer, batches };
}

describe('one producer for many panels', () => {
  it('sends what arrives within the linger window as one acks=-1 request, grouped by topic, order kept', async () => {
    const { producer, batches } = fakeProducer();
    const b = createBatchingProducer(producer, { lingerMs: 5 });
    await Promise.all([
      b.send('events', [{ key: '1', value: 'a' }, { key: '1', value: 'b' }]),
      b.send('link', [{ key: '2', value: 'up' }]),
      b.send('events', [{ key: '3', value: 'c' }]),
    ]);
    expect(batches).toHaveLength(1);
    expect(batches[0]!.acks).toBe(-1);
    expect(batches[0]!.topicMessages).toEqual([
      { topic: 'events', messages: [{ key: '1', value: 'a' }, { key: '1', value: 'b' }, { key: '3', value: 'c' }] },
      { topic: 'link', messages: [{ key: '2', value: 'up' }] },
    ]);
  });

  it('rejects every caller of a batch the broker did not acknowledge', async () => {
    const { producer } = fakeProducer(true);
    const b = createBatchingProducer(producer, { lingerMs: 1 });
    const results = await Promise.allSettled([b.send('events', [{ key: '1', value: 'a' }]), b.send('events', [{ key: '2', value: 'b' }])]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  });

  it('does not wait for the linger window once a batch is full', async () => {
    const { producer, batches } = fakeProducer();
    const b = createBatchingProducer(producer, { lingerMs: 60_000, maxMessages: 2 });
    await b.send('events', [{ key: '1', value: 'a' }, { key: '1', value: 'b' }]);
    expect(batches).toHaveLength(1);
  });
});
