import { describe, expect, it } from 'vitest';
import { isStamError } from '../platform/index.ts';
import type { ErrorCode } from '../platform/index.ts';
import { codecFor } from './codec.ts';
import { SAMPLES } from './fixtures/samples.ts';
import { loadSchema } from './load.ts';
import { TOPIC_SCHEMA_NAMES } from './types.ts';
import type { SatelEvent } from './types.ts';
import { createRng } from '../platform/random.ts';

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

function expectStamError(fn: () => unknown, code: ErrorCode, message?: RegExp): void {
  const err = thrown(fn);
  expect(isStamError(err, code), `${String(err)}`).toBe(true);
  if (message) expect((err as Error).message).toMatch(message);
}


const satel = codecFor('SatelEvent');
const satelSample = SAMPLES.SatelEvent[0]!;

describe('codecFor', () => {
  it('returns one cached codec per schema', () => {
    expect(codecFor('SatelEvent')).toBe(satel);
    expect(codecFor('AlarmUpdate')).not.toBe(satel);
  });

  it.each(TOPIC_SCHEMA_NAMES)('%s: every sample survives encode → decode unchanged', (name) => {
    const codec = codecFor(name) as { encode(v: unknown): Buffer; decode(b: Buffer): unknown };
    for (const sample of SAMPLES[name]) expect(codec.decode(codec.encode(sample))).toEqual(sample);
  });

  it.each(TOPIC_SCHEMA_NAMES)('%s: writes C3 01, the fingerprint of the canonical form, then the Avro body', (name) => {
    const codec = codecFor(name) as { fingerprint: Buffer; encode(v: unknown): Buffer };
    const { fingerprint, type } = loadSchema(name);
    const sample = SAMPLES[name][0];
    const buf = codec.encode(sample);
    expect(codec.fingerprint).toEqual(fingerprint.bytes);
    expect(buf.subarray(0, 2)).toEqual(Buffer.from([0xc3, 0x01]));
    expect(buf.subarray(2, 10)).toEqual(fingerprint.bytes);
    expect(buf.subarray(10)).toEqual(type.toBuffer(sample));
  });

  it('decodes timestamps as plain epoch-ms numbers', () => {
    const event = satel.decode(satel.encode(satelSample));
    expect(typeof event.observed_at).toBe('number');
    expect(event.observed_at).toBe(satelSample.observed_at);
    expect(event.trace?.origin_ms).toBe(satelSample.trace?.origin_ms);
  });
});

describe('decode rejects bad input with the catalogue error and nothing else', () => {
  const good = satel.encode(satelSample);

  it('a wrong magic is E_AVRO_MAGIC', () => {
    expectStamError(() => satel.decode(Buffer.from('{"event_id":"x"}')), 'E_AVRO_MAGIC', /not 'c301'/);
    expectStamError(() => satel.decode(Buffer.concat([Buffer.from([0xc3, 0x02]), good.subarray(2)])), 'E_AVRO_MAGIC');
    expectStamError(() => satel.decode(Buffer.alloc(0)), 'E_AVRO_MAGIC');
  });

  it('a missing value (Kafka tombstone) or a short header is E_AVRO_MAGIC', () => {
    expectStamError(() => satel.decode(null as unknown as Buffer), 'E_AVRO_MAGIC', /got null/);
    expectStamError(() => satel.decode(good.subarray(0, 9)), 'E_AVRO_MAGIC', /shorter than the 10-byte/);
  });

  it('an unknown fingerprint is E_AVRO_UNKNOWN_SCHEMA naming the fingerprint in hex', () => {
    const bytes = Buffer.from(good);
    bytes.writeBigUInt64LE(0x0123456789abcdefn, 2);
    expectStamError(() => satel.decode(bytes), 'E_AVRO_UNKNOWN_SCHEMA', /0x0123456789abcdef/);
  });

  it('a message of another topic is E_AVRO_UNKNOWN_SCHEMA', () => {
    const link = codecFor('PanelLink').encode(SAMPLES.PanelLink[0]!);
    expectStamError(() => satel.decode(link), 'E_AVRO_UNKNOWN_SCHEMA');
  });

  it('a truncated body, a garbage body or trailing bytes are E_AVRO_DECODE', () => {
    expectStamError(() => satel.decode(good.subarray(0, good.length - 3)), 'E_AVRO_DECODE', /truncated/);
    expectStamError(() => satel.decode(Buffer.concat([good, Buffer.from([0])])), 'E_AVRO_DECODE', /trailing/);
    const badEnum = Buffer.concat([good.subarray(0, 10), Buffer.from([0x02, 0x61, 0x02, 0x7e])]); // kind index 63
    expectStamError(() => satel.decode(badEnum), 'E_AVRO_DECODE', /enum index/);
  });

  it('a huge array count in a few bytes is E_AVRO_DECODE at once, without allocating it', () => {
    const update = codecFor('AlarmUpdate');
    const minimal = update.encode({ ...SAMPLES.AlarmUpdate[1]!, events: [] });
    // The last body byte is the empty array's terminating 0; announce 2^30 items instead.
    const huge = Buffer.concat([minimal.subarray(0, minimal.length - 1), Buffer.from([0x80, 0x80, 0x80, 0x80, 0x08])]);
    const started = Date.now();
    expectStamError(() => update.decode(huge), 'E_AVRO_DECODE', /exceeds/);
    expect(Date.now() - started).toBeLessThan(200);
  });

  it.each(TOPIC_SCHEMA_NAMES)('%s: thousands of mutated and random messages never throw anything but StamError', (name) => {
    const codec = codecFor(name) as { encode(v: unknown): Buffer; decode(b: Buffer): unknown };
    const random = createRng(name.length * 7919);
    const valid = SAMPLES[name].map((s) => codec.encode(s));
    let rejected = 0;
    for (let i = 0; i < 3000; i++) {
      const base = valid[i % valid.length]!;
      let buf: Buffer;
      if (i % 3 === 0) {
        buf = Buffer.from(base);
        const flips = 1 + Math.floor(random() * 4);
        for (let f = 0; f < flips; f++) buf[10 + Math.floor(random() * (buf.length - 10))] = Math.floor(random() * 256);
      } else if (i % 3 === 1) {
        buf = base.subarray(0, 10 + Math.floor(random() * (base.length - 10)));
      } else {
        buf = Buffer.concat([base.subarray(0, 10), Buffer.from(Array.from({ length: Math.floor(random() * 64) }, () => Math.floor(random() * 256)))]);
      }
      try {
        codec.decode(buf);
      } catch (err) {
        expect(isStamError(err, 'E_AVRO_DECODE'), String(err)).toBe(true);
        rejected++;
      }
    }
    expect(rejected).toBeGreaterThan(1000);
  });
});

describe('encode validates and names the bad field', () => {
  it('a wrong enum symbol', () => {
    expectStamError(() => satel.encode({ ...satelSample, kind: 'ZONE_MASKED' as SatelEvent['kind'] }), 'E_EVENT_INVALID', /^SatelEvent: kind: "ZONE_MASKED"/);
  });

  it('a nested field of a nullable record', () => {
    const log = { ...satelSample.log!, class: '1' as unknown as number };
    const err = thrown(() => satel.encode({ ...satelSample, log }));
    expect(isStamError(err, 'E_EVENT_INVALID')).toBe(true);
    expect((err as Error).message).toMatch(/log\.class: "1" is not a valid "int"/);
    expect((err as { details?: unknown }).details).toEqual({ schema: 'SatelEvent', fields: ['log.class'] });
  });

  it('a field of an array item', () => {
    const update = codecFor('AlarmUpdate');
    const sample = SAMPLES.AlarmUpdate[0]!;
    const events = [sample.events[0]!, { ...sample.events[1]!, observed_at: 1.5 }];
    expectStamError(() => update.encode({ ...sample, events }), 'E_EVENT_INVALID', /events\.1\.observed_at: 1\.5/);
  });

  it('a missing field, an unexpected field, a non-integer int and an unsafe long', () => {
    const { dedup_key: _omitted, ...missing } = satelSample;
    expectStamError(() => satel.encode(missing as SatelEvent), 'E_EVENT_INVALID', /dedup_key: undefined \(missing\)/);
    expectStamError(() => satel.encode({ ...satelSample, panelId: 17 } as SatelEvent), 'E_EVENT_INVALID', /\(root\): unexpected field\(s\) panelId/);
    expectStamError(() => satel.encode({ ...satelSample, object_number: 2 ** 31 }), 'E_EVENT_INVALID', /object_number/);
    expectStamError(() => satel.encode({ ...satelSample, panel_id: 2 ** 53 + 2 }), 'E_EVENT_INVALID', /panel_id/);
  });

  it('null where the schema has no null', () => {
    expectStamError(() => satel.encode({ ...satelSample, event_id: null as unknown as string }), 'E_EVENT_INVALID', /event_id: null/);
  });
});
