/**
 * Seeded fuzz of the frame parser, the decoders and the encrypted layer: 1,000,000 random and mutated
 * inputs. Properties: the parser never throws and never holds more than maxFrameBytes; it gives the same
 * events however the stream is chunked; intact frames always come out exactly; decoders either return or
 * throw E_SATEL_PROTOCOL (nothing else); memory does not grow. Reproducible: change SEED to explore.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { decodeAnswer } from './answers.ts';
import { encodeBitmapState, encodeIntegraVersion, encodeModuleVersion, encodeNewData, encodeRtc, encodeStateQuery, encodeTroubles } from './commands.ts';
import { encodeArm, encodeBypassZones, encodeDisarm, encodeOutputsOn } from './control.ts';
import { IntegrationCipher } from './crypto.ts';
import { encodeDeviceName, encodeDeviceNameRequest } from './devices.ts';
import { StamError } from './errors.ts';
import { encodeEventTextAnswer, encodeReadEvent, encodeReadEventAnswer } from './eventlog.ts';
import { encodeFrame, FrameParser } from './frame.ts';
import type { FrameEvent } from './frame.ts';
import { decodeRequest } from './requests.ts';
import { encodeResult } from './result.ts';
import { message } from './types.ts';
import type { Message } from './types.ts';
import { createRng } from '../../../platform/random.ts';

const SEED = 0x5a7e1;
const INPUTS = 1_000_000;
const CIPHER_EVERY = 10; // every 10th input also goes through the encrypted layer
const MAX_FRAME = 1024;
const CORPUS = 20_000;


describe('fuzz', () => {
  it('survives 1,000,000 random and mutated inputs with every reject counted', () => {
    const rnd = createRng(SEED);
    const int = (n: number): number => Math.floor(rnd() * n);
    const bytes = (n: number): Buffer => {
      const b = Buffer.allocUnsafe(n);
      for (let i = 0; i < n; i++) b[i] = int(256);
      return b;
    };
    const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
    const some = (max: number, n: number): number[] => Array.from({ length: n }, () => 1 + int(max));
    const user = { code: '1234' };

    const generators: (() => Message)[] = [
      () => encodeStateQuery(int(9), { extended: rnd() < 0.5 }),
      () => encodeBitmapState(pick([0x00, 0x05, 0x17]), some(256, int(6)), { extended: true }),
      () => encodeBitmapState(pick([0x0a, 0x13, 0x2a]), some(32, int(4))),
      () => encodeRtc({ year: 2000 + int(99), month: 1 + int(12), day: 1 + int(28), hour: int(24), minute: int(60), second: int(60), status1: int(256), status2: int(256) }),
      () => encodeTroubles(0x1b + int(5), bytes(int(26))),
      () => encodeModuleVersion({ raw: '12320120527', flags: int(4) }),
      () => encodeIntegraVersion({ type: pick([0, 3, 67, 72, 132]), raw: '12120150728', language: int(3), settingsInFlash: rnd() < 0.5 }),
      () => encodeNewData(some(40, int(5)).map((n) => n - 1), { extended: true }),
      () => encodeArm(int(4) as 0, user, some(32, 1 + int(3)), { force: rnd() < 0.5 }),
      () => encodeDisarm(user, some(32, 1)),
      () => encodeBypassZones(user, some(128, 2)),
      () => encodeOutputsOn(user, some(256, 2), { extended: true }),
      () => encodeResult(pick([0x00, 0x01, 0x11, 0x12, 0x8f, 0xff])),
      () => encodeReadEvent(int(0x1000000)),
      () =>
        encodeReadEventAnswer({
          record: { notEmpty: rnd() < 0.9, present: true, s1: int(4), s2: int(4), year: 2024, month: 1 + int(12), day: 1 + int(31), minuteOfDay: int(1440), eventClass: int(8) as 0, partitionRaw: int(32), restore: rnd() < 0.5, code: int(1024), source: int(256), object: int(8), userControlNumber: int(32) },
          eventIndex: int(0x1000000),
          calledIndex: int(0x1000000),
        }),
      () => encodeEventTextAnswer({ code: int(1024), restore: rnd() < 0.5, long: rnd() < 0.5, kind: int(256), text: 'Alarm' }),
      () => encodeDeviceNameRequest(int(6) as 0, 1 + int(256)),
      () => encodeDeviceName({ type: int(6) as 0, number: 1 + int(256), function: int(256), name: 'Zone', extra: int(256) }),
      () => message(pick([0x00, 0x17, 0x7f, 0x8c, 0xee, 0xef, int(256) === 0xfe ? 0 : int(254)]), bytes(int(48))),
    ];

    // Valid messages from every encoder, built once (building them per input would double the run time).
    const corpus = Array.from({ length: CORPUS }, () => {
      const msg = pick(generators)();
      return { msg, wire: encodeFrame(msg.cmd, msg.data) };
    });

    const BUSY = Buffer.from('Busy!\r\n', 'latin1');
    const mutators: ((b: Buffer) => Buffer)[] = [
      (b) => { const c = Buffer.from(b); const i = int(c.length); if (c.length) c[i] = c[i]! ^ (1 << int(8)); return c; },
      (b) => { const i = int(b.length + 1); return Buffer.concat([b.subarray(0, i), Buffer.from([0xfe]), b.subarray(i)]); },
      (b) => { const i = int(b.length + 1); return Buffer.concat([b.subarray(0, i), Buffer.from([0xfe, 0xfe]), b.subarray(i)]); },
      (b) => { const i = int(b.length); return Buffer.concat([b.subarray(0, i), b.subarray(i + 1)]); },
      (b) => b.subarray(0, int(b.length + 1)),
      (b) => { const i = int(b.length); const j = i + int(b.length - i + 1); return Buffer.concat([b.subarray(0, j), b.subarray(i, j), b.subarray(j)]); },
      (b) => { const i = int(b.length + 1); const junk = rnd() < 0.02 ? Buffer.alloc(MAX_FRAME + int(200), int(0xfe)) : bytes(int(20)); return Buffer.concat([b.subarray(0, i), junk, b.subarray(i)]); },
      (b) => { const c = Buffer.from(b); if (c.length) c[int(c.length)] = pick([0xfe, 0xf0, 0x0d, int(256)]); return c; },
      (b) => Buffer.concat([b, encodeFrame(int(0xfe), bytes(int(8)))]),
      (b) => Buffer.concat([int(2) ? Buffer.from([0x10]) : Buffer.alloc(0), BUSY.subarray(0, 3 + int(5)), b]),
      () => bytes(int(64)),
    ];

    const parserWhole = new FrameParser({ maxFrameBytes: MAX_FRAME });
    const parserChunked = new FrameParser({ maxFrameBytes: MAX_FRAME });
    const client = new IntegrationCipher('fuzz-key', { idS: 1, random: (n) => bytes(n) });
    const panel = new IntegrationCipher('fuzz-key', { idS: 2, random: (n) => bytes(n) });
    const cipherParser = new FrameParser({ maxFrameBytes: MAX_FRAME });
    const counts: Record<string, number> = {};
    const count = (k: string, n = 1): void => {
      counts[k] = (counts[k] ?? 0) + n;
    };
    const reasonClass = (reason: string): string => reason.replace(/0x[0-9A-F]+/g, 'xx').replace(/\d+/g, 'n');
    // Each message goes through the panel-side or the client-side decoder, chosen at random (both would
    // double the run time: a reject costs a few µs, mostly the thrown error).
    const decode = (msg: Message, origin: string): void => {
      const asRequest = rnd() < 0.5;
      const label = `${origin} as ${asRequest ? 'request' : 'answer'}`;
      try {
        if (asRequest) decodeRequest(msg);
        else decodeAnswer(msg, { currentYear: 2026 });
        count(`${label}: decoded`);
      } catch (err) {
        if (!(err instanceof StamError && err.code === 'E_SATEL_PROTOCOL')) throw err;
        count(`${label}: E_SATEL_PROTOCOL`);
      }
    };

    // Decoders reject by throwing; stack traces are useless here and dominate the run time.
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    const gc = exposeGc();
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    const started = performance.now();
    let pushedBytes = 0;
    let rejectedBytes = 0;

    try {
      for (let n = 0; n < INPUTS; n++) {
        const picked = Array.from({ length: rnd() < 0.75 ? 1 : 2 + int(2) }, () => pick(corpus));
        const msgs = picked.map((c) => c.msg);
        const valid = picked.length === 1 ? picked[0]!.wire : Buffer.concat(picked.map((c) => c.wire));
        const intact = rnd() < 0.1;
        let input: Buffer = valid;
        if (!intact) for (let k = 1 + int(3); k > 0; k--) input = pick(mutators)(input);
        pushedBytes += input.length;

        const whole = parserWhole.push(input);
        const chunked: FrameEvent[] = [];
        for (let i = 0; i < input.length; ) {
          const len = 1 + int(rnd() < 0.5 ? 4 : 64);
          chunked.push(...parserChunked.push(input.subarray(i, i + len)));
          i += len;
          if (parserChunked.bufferedBytes > MAX_FRAME) throw new Error(`parser holds ${parserChunked.bufferedBytes} bytes`);
        }
        if (parserWhole.bufferedBytes > MAX_FRAME) throw new Error(`parser holds ${parserWhole.bufferedBytes} bytes`);
        // Plain comparisons in the hot loop (expect() per input costs more than the parsing); expect() on a mismatch.
        if (chunked.length !== whole.length || whole.some((e, i) => !sameEvent(e, chunked[i]!))) expect(chunked).toEqual(whole);

        const frames = whole.filter((e) => e.type === 'frame');
        if (intact) {
          if (frames.length !== msgs.length || frames.some((f, i) => f.cmd !== msgs[i]!.cmd || !f.data.equals(msgs[i]!.data))) {
            expect(frames.map((f) => `${f.cmd}:${f.data.toString('hex')}`)).toEqual(msgs.map((m) => `${m.cmd}:${m.data.toString('hex')}`));
          }
          count('intact inputs: all frames recovered');
        }
        for (const e of whole) {
          if (e.type === 'frame') {
            count('parser: frame');
            decode(e, 'parsed frame');
          } else if (e.type === 'busy') {
            count('parser: busy');
          } else {
            count(`parser ${e.code}: ${reasonClass(e.reason)}`);
            rejectedBytes += e.bytes;
          }
        }

        // The decoders directly, on a mutated message (most mutated frames never pass the CRC).
        const m = pick(msgs);
        const data = intact ? m.data : pick(mutators)(m.data);
        decode(message(rnd() < 0.9 ? m.cmd : int(256), data), 'mutated message');

        if (n % CIPHER_EVERY === 0) {
          // A fresh connection each time: intact PDUs must give back exactly the frames, mutated ones must not throw.
          client.reset();
          panel.reset();
          const sent = picked.map((c) => c.wire);
          const wire = Buffer.concat(sent.map((f) => client.wrap(f)));
          const r = panel.unwrap(intact ? wire : pick(mutators)(wire));
          if (panel.bufferedBytes > 255) throw new Error(`cipher holds ${panel.bufferedBytes} bytes`);
          if (intact && (r.errors.length > 0 || r.frames.length !== sent.length || r.frames.some((f, i) => !f.equals(sent[i]!)))) {
            expect(r).toEqual({ frames: sent, errors: [] });
          }
          count('cipher: frames', r.frames.length);
          for (const e of r.errors) count(`cipher ${e.code}: ${reasonClass(e.reason).split(':')[0]!.split(' (')[0]!}`);
          for (const f of r.frames) for (const e of cipherParser.push(f)) count(`cipher then parser: ${e.type === 'error' ? e.code : e.type}`);
        }
      }
    } finally {
      Error.stackTraceLimit = stackTraceLimit;
    }

    const seconds = (performance.now() - started) / 1000;
    gc();
    const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
    console.log(
      `fuzz seed=0x${SEED.toString(16)} inputs=${INPUTS} bytes=${pushedBytes} rejectedBytes=${rejectedBytes} ` +
        `time=${seconds.toFixed(1)}s heapGrowth=${(heapGrowth / 1024).toFixed(0)}KiB\n` +
        Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `  ${k}: ${v}`).join('\n'),
    );

    expect(rejectedBytes).toBeLessThanOrEqual(pushedBytes);
    expect(counts['intact inputs: all frames recovered']).toBeGreaterThan(INPUTS * 0.08);
    expect(counts['parser: frame']).toBeGreaterThan(INPUTS * 0.5);
    expect(counts['parser E_SATEL_CRC: CRC xx != computed xx (cmd xx)']).toBeGreaterThan(1000);
    expect(counts['parser: busy']).toBeGreaterThan(1000);
    expect(counts['parser E_SATEL_FRAME: frame longer than n bytes']).toBeGreaterThan(100);
    for (const origin of ['parsed frame', 'mutated message']) {
      for (const side of ['request', 'answer']) {
        expect(counts[`${origin} as ${side}: decoded`]).toBeGreaterThan(1000);
        expect(counts[`${origin} as ${side}: E_SATEL_PROTOCOL`]).toBeGreaterThan(1000);
      }
    }
    expect(counts['cipher: frames']).toBeGreaterThan(INPUTS / CIPHER_EVERY / 2);
    expect(counts['cipher then parser: frame']).toBeGreaterThan(INPUTS / CIPHER_EVERY / 10);
    expect(counts['cipher then parser: E_SATEL_CRC']).toBeGreaterThan(1000);
    expect(heapGrowth).toBeLessThan(16 * 1024 * 1024);
    expect(seconds).toBeLessThan(60);
  }, 120_000);
});

function sameEvent(a: FrameEvent, b: FrameEvent): boolean {
  if (a.type === 'frame' && b.type === 'frame') return a.cmd === b.cmd && a.data.equals(b.data);
  if (a.type === 'error' && b.type === 'error') return a.code === b.code && a.reason === b.reason && a.bytes === b.bytes;
  return a.type === b.type;
}

/** A real heap measurement needs a collection before and after; expose V8's gc() without a CLI flag. */
function exposeGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}
