import { describe, expect, it } from 'vitest';
import { createReassembly } from './multipart.ts';
import type { SmsPart } from './pdu.ts';

const part = (seq: number, text: string, over: Partial<SmsPart> = {}): SmsPart => ({
  sender: '+48600100200', senderType: 'international', smscTimeMs: 1000 + seq, smscTzMinutes: 60, encoding: 'ucs2', text,
  concat: { iei: 0, ref: 7, total: 3, seq }, ...over,
});
const stored = (slot: number, p: SmsPart) => ({ slot, part: p, pdu: `pdu-${slot}-${p.text}` });

describe('long SMS reassembly', () => {
  it('joins three parts delivered out of order, once, with the earliest time stamp', () => {
    const r = createReassembly<number>({ timeoutMs: 60_000 });
    expect(r.add(0, stored(5, part(3, 'ść.')))).toEqual([]);
    expect(r.add(1, stored(3, part(1, 'Zażółć ')))).toEqual([]);
    expect(r.add(2, stored(3, part(1, 'Zażółć ')))).toEqual([]); // the same part listed again
    expect(r.add(2, { ...stored(3, part(1, 'Zażółć ')), slot: 8 })).toEqual([]); // the network delivered it twice
    const [m] = r.add(3, stored(4, part(2, 'gęślą ja')));
    expect(m).toMatchObject({ text: 'Zażółć gęślą jaść.', partial: false, total: 3, smscTimeMs: 1001, missing: [] });
    expect(m!.parts.map((p) => p.slot)).toEqual([3, 4, 5]);
    expect(m!.copies.map((p) => p.slot)).toEqual([8]);
    expect(r.incomplete).toBe(0);
  });

  it('keeps sets of different senders, references and counts apart', () => {
    const r = createReassembly<number>({ timeoutMs: 60_000 });
    r.add(0, stored(1, part(1, 'a')));
    r.add(0, stored(2, part(1, 'b', { sender: '+48600999888' })));
    r.add(0, stored(3, part(1, 'c', { concat: { iei: 8, ref: 7, total: 2, seq: 1 } })));
    expect(r.incomplete).toBe(3);
  });

  it('hands out an incomplete set after the timeout as what arrived, flagged partial', () => {
    const r = createReassembly<number>({ timeoutMs: 1_000 });
    r.add(100, stored(1, part(1, 'first ')));
    r.add(200, stored(3, part(3, 'third')));
    expect(r.nextDueAt()).toBe(1_100);
    expect(r.due(1_099)).toEqual([]);
    const [m] = r.due(1_100);
    expect(m).toMatchObject({ text: 'first third', partial: true, missing: [2] });
    expect(r.incomplete).toBe(0);
  });

  it('a reused reference with another PDU under a held sequence number flushes the old set as partial', () => {
    const r = createReassembly<number>({ timeoutMs: 60_000 });
    r.add(0, stored(1, part(1, 'old ')));
    const out = r.add(5, stored(2, part(1, 'new ')));
    expect(out).toMatchObject([{ text: 'old ', partial: true }]);
    expect(r.incomplete).toBe(1);
  });

  it('a single SMS is complete at once', () => {
    const r = createReassembly<number>({ timeoutMs: 60_000 });
    expect(r.add(0, stored(9, part(1, 'hello', { concat: null })))).toMatchObject([{ text: 'hello', total: 1, partial: false }]);
  });
});
