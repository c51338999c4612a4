import { describe, expect, it } from 'vitest';
import {
  decodeEventRecord,
  decodeEventTextAnswer,
  decodeEventTextRequest,
  decodeReadEventAnswer,
  decodeReadEventRequest,
  encodeEventRecord,
  encodeEventTextAnswer,
  encodeEventTextRequest,
  encodeReadEvent,
  encodeReadEventAnswer,
  EVENT_LOG_NEWEST,
  isEndOfLog,
  olderEventRequest,
  reconstructYear,
} from './eventlog.ts';
import type { EventRecordFields } from './eventlog.ts';
import { message } from './types.ts';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// Built by hand from the bit layout:
// b0 10 1 1 01 10 = YY 2, Z, E, S2 1, S1 2   b1 010 01111 = class 2, day 15   b2 1011 0011 = month 11, minutes hi 3
// b3 0x31 (minutes 0x331 = 817 = 13:37)      b4 00100 1 01 = partition 4, restore, code hi 1   b5 0xA5 (code 0x1A5)
// b6 source 17                                b7 011 01001 = object 3, user control number 9
const RECORD = hex('B6 4F B3 31 25 A5 11 69');

describe('0x8C event record', () => {
  it('decodes every field of the 8-byte record', () => {
    expect(decodeEventRecord(RECORD, { currentYear: 2026 })).toEqual({
      notEmpty: true,
      present: true,
      s2: 1,
      s1: 2,
      yearMod4: 2,
      year: 2026,
      month: 11,
      day: 15,
      minuteOfDay: 817,
      time: '13:37',
      eventClass: 2,
      className: 'arming, disarming, alarm clearing',
      partitionRaw: 4,
      restore: true,
      code: 0x1a5,
      source: 17,
      object: 3,
      userControlNumber: 9,
    });
  });
  it('reconstructs the year from year mod 4 and never lands after the current year', () => {
    expect(reconstructYear(2, 2026)).toBe(2026);
    expect(reconstructYear(2, 2025)).toBe(2022);
    expect(reconstructYear(0, 2024)).toBe(2024);
    expect(reconstructYear(3, 2024)).toBe(2023);
    expect(reconstructYear(1, 2027)).toBe(2025);
    expect(decodeEventRecord(RECORD, { currentYear: 2025 }).year).toBe(2022);
  });
  it('encodes the same bytes from the fields (the simulator builds records)', () => {
    const fields = decodeEventRecord(RECORD, { currentYear: 2026 });
    expect(encodeEventRecord(fields)).toEqual(RECORD);
  });
  it('round-trips extreme field values', () => {
    const f: EventRecordFields = {
      notEmpty: false, present: false, s1: 3, s2: 0, year: 2023, month: 12, day: 31, minuteOfDay: 1439, eventClass: 7,
      partitionRaw: 31, restore: false, code: 0x3ff, source: 255, object: 7, userControlNumber: 31,
    };
    expect(decodeEventRecord(encodeEventRecord(f), { currentYear: 2024 })).toMatchObject({ ...f, time: '23:59', className: 'system events' });
  });
  it('refuses fields that do not fit their bits and records that are not 8 bytes', () => {
    const f = decodeEventRecord(RECORD, { currentYear: 2026 });
    expect(() => encodeEventRecord({ ...f, code: 1024 })).toThrow(expect.objectContaining({ code: 'E_SATEL_REQUEST' }));
    expect(() => encodeEventRecord({ ...f, minuteOfDay: 4096 })).toThrow(/minuteOfDay/);
    expect(() => decodeEventRecord(RECORD.subarray(0, 7), { currentYear: 2026 })).toThrow(expect.objectContaining({ code: 'E_SATEL_PROTOCOL' }));
  });
});

describe('0x8C read event and paging', () => {
  it('asks for the newest record with FF FF FF', () => {
    expect(encodeReadEvent()).toEqual({ cmd: 0x8c, data: hex('FF FF FF') });
    expect(encodeReadEvent(EVENT_LOG_NEWEST).data).toEqual(hex('FF FF FF'));
    expect(encodeReadEvent(0x012345).data).toEqual(hex('01 23 45'));
    expect(() => encodeReadEvent(0x1000000)).toThrow(expect.objectContaining({ code: 'E_SATEL_REQUEST' }));
  });
  it('decodes record, event index and the index used to call', () => {
    const a = decodeReadEventAnswer(message(0x8c, Buffer.concat([RECORD, hex('00 01 F3 FF FF FF')])), { currentYear: 2026 });
    expect(a.eventIndex).toBe(0x1f3);
    expect(a.calledIndex).toBe(0xffffff);
    expect(a.record.code).toBe(0x1a5);
  });
  it('steps to the older record with the returned index and stops when Z = 0', () => {
    const newest = decodeReadEventAnswer(message(0x8c, Buffer.concat([RECORD, hex('00 01 F3 FF FF FF')])), { currentYear: 2026 });
    expect(isEndOfLog(newest)).toBe(false);
    expect(olderEventRequest(newest)).toEqual({ cmd: 0x8c, data: hex('00 01 F3') });
    const empty = Buffer.from(RECORD);
    empty[0] = empty[0]! & ~0x20;
    const last = decodeReadEventAnswer(message(0x8c, Buffer.concat([empty, hex('00 00 00 00 01 F3')])), { currentYear: 2026 });
    expect(isEndOfLog(last)).toBe(true);
    expect(olderEventRequest(last)).toBeUndefined();
  });
  it('round-trips request and answer on the panel side', () => {
    expect(decodeReadEventRequest(encodeReadEvent(0x00ffff))).toEqual({ index: 0x00ffff });
    const record = decodeEventRecord(RECORD, { currentYear: 2026 });
    const msg = encodeReadEventAnswer({ record, eventIndex: 7, calledIndex: 8 });
    expect(msg.data).toEqual(Buffer.concat([RECORD, hex('00 00 07 00 00 08')]));
    expect(() => decodeReadEventRequest(message(0x8c, hex('FF FF')))).toThrow(/2 data bytes, expected 3/);
  });
  it('rejects an answer that is not 14 bytes', () => {
    expect(() => decodeReadEventAnswer(message(0x8c, RECORD), { currentYear: 2026 })).toThrow(/8 data bytes, expected 14/);
  });
});

describe('0x8F event text', () => {
  it('puts long/short in bit 15 and R CC cccccccc in the low 11 bits', () => {
    expect(encodeEventTextRequest({ code: 0x1a5, restore: true, long: true }).data).toEqual(hex('85 A5'));
    expect(encodeEventTextRequest({ code: 0x0ff, restore: false, long: false }).data).toEqual(hex('00 FF'));
    expect(decodeEventTextRequest(message(0x8f, hex('87 10')))).toEqual({ long: true, restore: true, code: 0x310 });
    expect(() => encodeEventTextRequest({ code: 1024, restore: false, long: false })).toThrow(expect.objectContaining({ code: 'E_SATEL_REQUEST' }));
  });
  it('decodes a 21-byte short answer with the kind from bytes 3–4 and trims the text', () => {
    const data = Buffer.concat([hex('00 7C 00 00 02'), Buffer.from('Zone alarm      ', 'latin1')]);
    expect(decodeEventTextAnswer(message(0x8f, data))).toEqual({ long: false, restore: false, code: 0x7c, kind: 2, text: 'Zone alarm' });
  });
  it('decodes a 51-byte long answer with the kind from byte 2 and Windows-1250 text', () => {
    const text = Buffer.alloc(46, 0x20);
    Buffer.from([0x57, 0x65, 0x6a, 0x9c, 0x63, 0x69, 0x65]).copy(text); // "Wejście" in Windows-1250
    const a = decodeEventTextAnswer(message(0x8f, Buffer.concat([hex('80 7C 05 00 00'), text])));
    expect(a).toEqual({ long: true, restore: false, code: 0x7c, kind: 5, text: 'Wejście' });
  });
  it('round-trips the panel-side encoder for both lengths', () => {
    const short = encodeEventTextAnswer({ code: 0x1a5, restore: true, long: false, kind: 1, text: 'Uzbrojenie' });
    expect(short.data).toHaveLength(21);
    expect(decodeEventTextAnswer(short)).toEqual({ code: 0x1a5, restore: true, long: false, kind: 1, text: 'Uzbrojenie' });
    const long = encodeEventTextAnswer({ code: 3, restore: false, long: true, kind: 9, text: 'Naruszenie strefy – alarm' });
    expect(long.data).toHaveLength(51);
    expect(decodeEventTextAnswer(long).text).toBe('Naruszenie strefy – alarm');
  });
  it('rejects a length that does not match the long/short bit', () => {
    const data = Buffer.concat([hex('80 7C 05 00 00'), Buffer.alloc(16, 0x20)]);
    expect(() => decodeEventTextAnswer(message(0x8f, data))).toThrow(/long event text answer has 21 data bytes, expected 51/);
    expect(() => decodeEventTextAnswer(message(0x8f, Buffer.alloc(20)))).toThrow(expect.objectContaining({ code: 'E_SATEL_PROTOCOL' }));
  });
});
