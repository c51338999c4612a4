import { describe, expect, it } from 'vitest';
import {
  decodeControlRequest,
  encodeArm,
  encodeBypassZones,
  encodeClearAlarm,
  encodeClearTroubleMemory,
  encodeDisarm,
  encodeOutputsOff,
  encodeOutputsOn,
  encodeUnbypassZones,
  isControlCmd,
} from './control.ts';
import { decodeResult, describeResult, encodeResult, ResultCode } from './result.ts';
import { message } from './types.ts';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const CODE_1234 = '12 34 FF FF FF FF FF FF';
const user = { code: '1234' };

describe('arm, force arm, disarm, clear alarm: code + 4-byte partitions', () => {
  it('arms partitions 1 and 3 in mode 0 with 0x80', () => {
    expect(encodeArm(0, user, [1, 3])).toEqual({ cmd: 0x80, data: hex(`${CODE_1234} 05 00 00 00`) });
  });
  it('uses 0x81–0x83 for modes 1–3 and 0xA0–0xA3 for force arm', () => {
    expect([1, 2, 3].map((m) => encodeArm(m as 1 | 2 | 3, user, [1]).cmd)).toEqual([0x81, 0x82, 0x83]);
    expect([0, 1, 2, 3].map((m) => encodeArm(m as 0 | 1 | 2 | 3, user, [32], { force: true }).cmd)).toEqual([0xa0, 0xa1, 0xa2, 0xa3]);
    expect(encodeArm(2, user, [32], { force: true }).data).toEqual(hex(`${CODE_1234} 00 00 00 80`));
  });
  it('disarms with 0x84 and clears alarms with 0x85, prefix first in the code', () => {
    expect(encodeDisarm({ code: '1234', prefix: '55' }, [2])).toEqual({ cmd: 0x84, data: hex('55 12 34 FF FF FF FF FF 02 00 00 00') });
    expect(encodeClearAlarm(user, [9])).toEqual({ cmd: 0x85, data: hex(`${CODE_1234} 00 01 00 00`) });
  });
  it('refuses a mode outside 0..3 and partitions above 32', () => {
    expect(() => encodeArm(4 as 0, user, [1])).toThrow(expect.objectContaining({ code: 'E_SATEL_REQUEST' }));
    expect(() => encodeDisarm(user, [33])).toThrow(expect.objectContaining({ code: 'E_SATEL_REQUEST' }));
  });
});

describe('bypass, outputs, clear trouble memory', () => {
  it('bypasses / unbypasses zones with a 16-byte bitmap, or 32 bytes when extended', () => {
    expect(encodeBypassZones(user, [1, 128])).toEqual({ cmd: 0x86, data: hex(`${CODE_1234} 01 ${'00 '.repeat(14)} 80`) });
    const un = encodeUnbypassZones(user, [256], { extended: true });
    expect(un.cmd).toBe(0x87);
    expect(un.data).toHaveLength(8 + 32);
    expect(un.data[39]).toBe(0x80);
  });
  it('switches outputs on with 0x88 and off with 0x89', () => {
    expect(encodeOutputsOn(user, [3]).cmd).toBe(0x88);
    expect(encodeOutputsOn(user, [3]).data.subarray(8)).toEqual(Buffer.concat([hex('04'), Buffer.alloc(15)]));
    expect(encodeOutputsOff(user, [3], { extended: true }).data).toHaveLength(40);
    expect(encodeOutputsOff(user, [3]).cmd).toBe(0x89);
  });
  it('clears trouble memory with 0x8B and the code only', () => {
    expect(encodeClearTroubleMemory(user)).toEqual({ cmd: 0x8b, data: hex(CODE_1234) });
  });
});

describe('panel side: decodeControlRequest', () => {
  it('reads back every encoder', () => {
    expect(decodeControlRequest(encodeArm(3, user, [1, 2], { force: true }))).toEqual({
      action: 'forceArm', cmd: 0xa3, mode: 3, userCode: '1234', partitions: [1, 2],
    });
    expect(decodeControlRequest(encodeArm(1, user, [4]))).toMatchObject({ action: 'arm', mode: 1, partitions: [4] });
    expect(decodeControlRequest(encodeDisarm(user, [5]))).toEqual({ action: 'disarm', cmd: 0x84, userCode: '1234', partitions: [5] });
    expect(decodeControlRequest(encodeClearAlarm(user, [6]))).toMatchObject({ action: 'clearAlarm', partitions: [6] });
    expect(decodeControlRequest(encodeBypassZones(user, [7]))).toEqual({ action: 'bypassZones', cmd: 0x86, userCode: '1234', zones: [7], extended: false });
    expect(decodeControlRequest(encodeUnbypassZones(user, [200], { extended: true }))).toMatchObject({ action: 'unbypassZones', zones: [200], extended: true });
    expect(decodeControlRequest(encodeOutputsOn(user, [8]))).toMatchObject({ action: 'outputsOn', outputs: [8] });
    expect(decodeControlRequest(encodeOutputsOff(user, [9]))).toMatchObject({ action: 'outputsOff', outputs: [9] });
    expect(decodeControlRequest(encodeClearTroubleMemory({ code: '0000', prefix: '1' }))).toEqual({
      action: 'clearTroubleMemory', cmd: 0x8b, userCode: '10000',
    });
  });
  it('rejects wrong payload lengths and codes that are not BCD', () => {
    expect(() => decodeControlRequest(message(0x80, hex(`${CODE_1234} 01 00 00`)))).toThrow(/11 data bytes, expected 12/);
    expect(() => decodeControlRequest(message(0x86, hex(`${CODE_1234} 01 00 00 00`)))).toThrow(/expected 24 or 40/);
    expect(() => decodeControlRequest(message(0x80, hex('AB CD FF FF FF FF FF FF 01 00 00 00')))).toThrow(/not BCD/);
    expect(() => decodeControlRequest(message(0x8a, hex(CODE_1234)))).toThrow(expect.objectContaining({ code: 'E_SATEL_PROTOCOL' }));
  });
  it('knows which commands are control commands', () => {
    expect([0x80, 0x84, 0x89, 0x8b, 0xa0, 0xa3].every(isControlCmd)).toBe(true);
    expect([0x7f, 0x8a, 0x8c, 0xa4, 0xef].some(isControlCmd)).toBe(false);
  });
});

describe('0xEF results', () => {
  it('describes every listed result code', () => {
    expect(describeResult(0x00)).toBe('ok, command accepted');
    expect(describeResult(0x01)).toBe('user code not found');
    expect(describeResult(0x02)).toBe('no access');
    expect(describeResult(0x03)).toBe('selected user does not exist');
    expect(describeResult(0x04)).toBe('selected user already exists');
    expect(describeResult(0x05)).toBe('wrong code or code already exists');
    expect(describeResult(0x06)).toBe('telephone code already exists');
    expect(describeResult(0x07)).toBe('changed code is the same');
    expect(describeResult(0x08)).toBe('other error');
    expect(describeResult(0x11)).toBe('cannot arm, force arm possible (zones violated or troubles)');
    expect(describeResult(0x12)).toBe('cannot arm');
    expect(describeResult(0x83)).toBe('other error (0x83)');
    expect(describeResult(0xff)).toBe('command accepted, will be processed');
    expect(describeResult(0x42)).toBe('unknown result code 0x42');
  });
  it('treats 0x00 and 0xFF as success and everything else as refusal', () => {
    expect(decodeResult(encodeResult(ResultCode.ok))).toEqual({ code: 0, ok: true, text: 'ok, command accepted' });
    expect(decodeResult(message(0xef, hex('FF'))).ok).toBe(true);
    expect(decodeResult(message(0xef, hex('11')))).toEqual({ code: 0x11, ok: false, text: describeResult(0x11) });
  });
  it('rejects frames that are not a 1-byte 0xEF', () => {
    expect(() => decodeResult(message(0xef, hex('00 00')))).toThrow(expect.objectContaining({ code: 'E_SATEL_PROTOCOL' }));
    expect(() => decodeResult(message(0x80, hex('00')))).toThrow(/expected a result/);
  });
});
