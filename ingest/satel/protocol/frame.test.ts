import { describe, expect, it } from 'vitest';
import { crc16, encodeFrame, FrameParser } from './frame.ts';
import type { FrameEvent } from './frame.ts';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const frames = (events: FrameEvent[]): { cmd: number; data: string }[] =>
  events.flatMap((e) => (e.type === 'frame' ? [{ cmd: e.cmd, data: e.data.toString('hex') }] : []));
const errors = (events: FrameEvent[]): Extract<FrameEvent, { type: 'error' }>[] =>
  events.filter((e): e is Extract<FrameEvent, { type: 'error' }> => e.type === 'error');

describe('crc16 (manual algorithm, init 0x147A)', () => {
  it('gives 8A 9B for the manual Appendix 4 frame body E0 12 34 FF FF', () => {
    expect(crc16(hex('E0 12 34 FF FF'))).toBe(0x8a9b);
  });
  it('gives D7 EB for [09] and 51 76 for [09 FE]', () => {
    expect(crc16(hex('09'))).toBe(0xd7eb);
    expect(crc16(hex('09 FE'))).toBe(0x5176);
  });
  it('returns the seed 0x147A when no byte is fed', () => {
    expect(crc16(new Uint8Array(0))).toBe(0x147a);
  });
});

describe('encodeFrame', () => {
  it('builds the manual Appendix 4 frame', () => {
    expect(encodeFrame(0xe0, hex('12 34 FF FF')).toString('hex')).toBe('fefee01234ffff8a9bfe0d');
  });
  it('builds [09] without data', () => {
    expect(encodeFrame(0x09).toString('hex')).toBe('fefe09d7ebfe0d');
  });
  it('stuffs FE in the data as FE F0', () => {
    expect(encodeFrame(0x09, hex('FE')).toString('hex')).toBe('fefe09fef05176fe0d');
  });
  it('stuffs FE appearing in the CRC bytes', () => {
    // Find a one-byte payload whose CRC contains FE and check it is stuffed and parses back.
    let found = false;
    for (let b = 0; b < 256 && !found; b++) {
      const crc = crc16(Uint8Array.of(0x01, b));
      if (crc >> 8 === 0xfe || (crc & 0xff) === 0xfe) {
        found = true;
        const wire = encodeFrame(0x01, Uint8Array.of(b));
        expect(wire.subarray(2, -2).toString('hex')).toContain('fef0');
        expect(frames(new FrameParser().push(wire))).toEqual([{ cmd: 1, data: b.toString(16).padStart(2, '0') }]);
      }
    }
    expect(found).toBe(true);
  });
  it('refuses a command byte of FE or out of range', () => {
    expect(() => encodeFrame(0xfe)).toThrow(RangeError);
    expect(() => encodeFrame(256)).toThrow(RangeError);
    expect(() => encodeFrame(-1)).toThrow(RangeError);
    expect(() => encodeFrame(1.5)).toThrow(RangeError);
  });
});

describe('FrameParser', () => {
  it('decodes the manual Appendix 4 frame', () => {
    const ev = new FrameParser().push(hex('FE FE E0 12 34 FF FF 8A 9B FE 0D'));
    expect(ev).toEqual([{ type: 'frame', cmd: 0xe0, data: hex('12 34 FF FF') }]);
  });
  it('unstuffs FE F0 into a literal FE', () => {
    expect(new FrameParser().push(hex('FE FE 09 FE F0 51 76 FE 0D'))).toEqual([{ type: 'frame', cmd: 9, data: hex('FE') }]);
  });
  it('resyncs on FE FE inside a frame: FE FE 01 FE FE 02 FE 0D yields the single frame [02]', () => {
    const wire = Buffer.concat([hex('FE FE 01'), encodeFrame(0x02)]);
    expect(wire.subarray(0, 5).toString('hex')).toBe('fefe01fefe');
    const ev = new FrameParser().push(wire);
    expect(frames(ev)).toEqual([{ cmd: 2, data: '' }]);
    expect(errors(ev)).toEqual([{ type: 'error', code: 'E_SATEL_FRAME', reason: 'partial frame dropped by a new sync', bytes: 3 }]);
  });
  it('rejects a frame with a wrong CRC with E_SATEL_CRC and keeps going', () => {
    const p = new FrameParser();
    const ev = p.push(hex('FE FE E0 12 34 FF FF 8A 9C FE 0D'));
    expect(ev).toHaveLength(1);
    expect(ev[0]).toMatchObject({ type: 'error', code: 'E_SATEL_CRC', bytes: 11 });
    expect(frames(p.push(encodeFrame(0x09)))).toEqual([{ cmd: 9, data: '' }]);
  });
  it('ignores extra FE while waiting for the command byte', () => {
    expect(frames(new FrameParser().push(hex('FE FE FE FE 09 D7 EB FE 0D')))).toEqual([{ cmd: 9, data: '' }]);
  });
  it('rejects frames shorter than cmd + CRC', () => {
    const ev = new FrameParser().push(hex('FE FE 09 D7 FE 0D'));
    expect(ev).toHaveLength(1);
    expect(ev[0]).toMatchObject({ type: 'error', code: 'E_SATEL_FRAME', bytes: 6 });
  });
  it('treats FE followed by anything but F0/0D/FE inside a frame as a framing error and resyncs', () => {
    const p = new FrameParser();
    const ev = p.push(Buffer.concat([hex('FE FE 09 FE 41'), encodeFrame(0x0a, hex('01'))]));
    expect(errors(ev)).toEqual([{ type: 'error', code: 'E_SATEL_FRAME', reason: 'FE followed by 0x41 inside a frame', bytes: 5 }]);
    expect(frames(ev)).toEqual([{ cmd: 0x0a, data: '01' }]);
  });
  it('decodes a frame fed one byte at a time', () => {
    const wire = encodeFrame(0x7e, hex('48 31 32 33 FE 00'));
    const p = new FrameParser();
    const ev: FrameEvent[] = [];
    for (const b of wire) {
      ev.push(...p.push(Uint8Array.of(b)));
      expect(p.bufferedBytes).toBeLessThanOrEqual(1 + 6 + 2);
    }
    expect(ev).toEqual([{ type: 'frame', cmd: 0x7e, data: hex('48 31 32 33 FE 00') }]);
    expect(p.bufferedBytes).toBe(0);
  });
  it('decodes coalesced frames from one chunk in order', () => {
    const wire = Buffer.concat([encodeFrame(0x00, Buffer.alloc(16, 0xfe)), encodeFrame(0x17, Buffer.alloc(16, 1)), encodeFrame(0xef, hex('00'))]);
    expect(frames(new FrameParser().push(wire))).toEqual([
      { cmd: 0x00, data: 'fe'.repeat(16) },
      { cmd: 0x17, data: '01'.repeat(16) },
      { cmd: 0xef, data: '00' },
    ]);
  });
  it('skips garbage between frames and reports each run once with its length', () => {
    const p = new FrameParser();
    const garbage = Buffer.from('hello, world 1234567890', 'ascii');
    const ev: FrameEvent[] = [];
    // Garbage fed byte by byte still yields one error event for the run.
    ev.push(...p.push(encodeFrame(0x01, hex('02'))));
    for (const b of garbage) ev.push(...p.push(Uint8Array.of(b)));
    ev.push(...p.push(hex('FE 33 FE')), ...p.push(encodeFrame(0x02)));
    expect(frames(ev)).toEqual([{ cmd: 1, data: '02' }, { cmd: 2, data: '' }]);
    // "FE 33" is a lone FE (not a sync) plus a byte; the final FE is part of the next sync run.
    expect(errors(ev)).toEqual([{ type: 'error', code: 'E_SATEL_FRAME', reason: `skipped ${garbage.length + 2} stray bytes outside frames`, bytes: garbage.length + 2 }]);
  });
  it('reports an endless garbage stream in bounded chunks, not per byte', () => {
    const p = new FrameParser();
    const ev = p.push(Buffer.alloc(10_000, 0x55));
    expect(errors(ev).map((e) => e.bytes)).toEqual([4096, 4096]);
    expect(errors(p.push(encodeFrame(0x09))).map((e) => e.bytes)).toEqual([10_000 - 8192]);
  });
  it('reports the Busy! text, with and without the 0x10 prefix, and across chunk splits', () => {
    const p = new FrameParser();
    expect(p.push(Buffer.from('Busy!\r\n', 'ascii'))).toEqual([{ type: 'busy' }]);
    expect(p.push(Buffer.from('\x10Bu', 'ascii'))).toEqual([]);
    expect(p.push(Buffer.from('sy!\r\n', 'ascii'))).toEqual([{ type: 'busy' }]);
    const ev = p.push(Buffer.concat([Buffer.from('xxBusy!\r\n', 'ascii'), encodeFrame(0x09)]));
    expect(ev).toEqual([
      { type: 'error', code: 'E_SATEL_FRAME', reason: 'skipped 2 stray bytes outside frames', bytes: 2 },
      { type: 'busy' },
      { type: 'frame', cmd: 9, data: Buffer.alloc(0) },
    ]);
  });
  it('does not mistake a broken Busy text for Busy', () => {
    const ev = new FrameParser().push(Buffer.concat([Buffer.from('BuBusy\r\n', 'ascii'), encodeFrame(9)]));
    expect(ev.some((e) => e.type === 'busy')).toBe(false);
    expect(errors(ev)).toEqual([{ type: 'error', code: 'E_SATEL_FRAME', reason: 'skipped 8 stray bytes outside frames', bytes: 8 }]);
  });
  it('rejects a frame longer than maxFrameBytes and resyncs, with the buffer never above the limit', () => {
    const p = new FrameParser({ maxFrameBytes: 20 });
    const long = encodeFrame(0x01, Buffer.alloc(30, 0x11));
    const ev: FrameEvent[] = [];
    for (const b of long) {
      ev.push(...p.push(Uint8Array.of(b)));
      expect(p.bufferedBytes).toBeLessThanOrEqual(20);
    }
    expect(errors(ev)[0]).toMatchObject({ code: 'E_SATEL_FRAME', reason: 'frame longer than 20 bytes' });
    expect(frames(p.push(encodeFrame(0x02, Buffer.alloc(17, 0x22))))).toEqual([{ cmd: 2, data: '22'.repeat(17) }]);
  });
  it('accepts a frame of exactly maxFrameBytes unstuffed bytes', () => {
    const p = new FrameParser({ maxFrameBytes: 20 });
    expect(frames(p.push(encodeFrame(0x03, Buffer.alloc(17, 0xfe))))).toEqual([{ cmd: 3, data: 'fe'.repeat(17) }]);
  });
  it('reset() drops a partial frame', () => {
    const p = new FrameParser();
    p.push(hex('FE FE 09 D7'));
    expect(p.bufferedBytes).toBe(2);
    p.reset();
    expect(p.bufferedBytes).toBe(0);
    // The rest of the old frame is now stray (EB, then a lone FE and 0D), reported when the next frame syncs.
    expect(p.push(hex('EB FE 0D'))).toEqual([]);
    expect(p.push(encodeFrame(0x09))).toEqual([
      { type: 'error', code: 'E_SATEL_FRAME', reason: 'skipped 3 stray bytes outside frames', bytes: 3 },
      { type: 'frame', cmd: 9, data: Buffer.alloc(0) },
    ]);
  });
  it('rejects an invalid maxFrameBytes option', () => {
    expect(() => new FrameParser({ maxFrameBytes: 2 })).toThrow(RangeError);
  });
});
