/**
 * Event log: 0x8C reads one 8-byte record (plus the index to step to the older one), 0x8F reads the text
 * for an event code. Records carry minutes, not seconds, and the year only modulo 4.
 */
import { Cmd, expectAnswer } from './commands.ts';
import { hex, protocolError, requestError } from './errors.ts';
import { decodeText, encodeText } from './text.ts';
import { message } from './types.ts';
import type { Message } from './types.ts';

/** Index that reads the newest record of the standard log. */
export const EVENT_LOG_NEWEST = 0xffffff;

const EventClass = {
  0: 'zone and tamper alarms',
  1: 'partition and expander alarms',
  2: 'arming, disarming, alarm clearing',
  3: 'zone bypasses and unbypasses',
  4: 'access control',
  5: 'troubles',
  6: 'user functions',
  7: 'system events',
} as const;
type EventClassNumber = keyof typeof EventClass;

/** Fields of one record as the encoder takes them (the simulator builds records from these). */
export interface EventRecordFields {
  /** Z: the record is not empty. Z = 0 ends the standard log. */
  notEmpty: boolean;
  /** E: an event is present. */
  present: boolean;
  /** Monitoring status S1, S2 (0..3 each). */
  s1: number;
  s2: number;
  /** Full year; only year mod 4 goes on the wire. */
  year: number;
  month: number;
  day: number;
  /** Minutes since midnight (0..1439; 12 bits on the wire). */
  minuteOfDay: number;
  eventClass: EventClassNumber;
  /** The 5-bit partition field as sent; implementations differ on whether it counts from 0 or 1. */
  partitionRaw: number;
  restore: boolean;
  /** 10-bit event code (names in the manual's code table; text via 0x8F). */
  code: number;
  /** Zone, user, expander … number, depending on the event. */
  source: number;
  /** Object number 0..7. */
  object: number;
  /** User control number 0..31. */
  userControlNumber: number;
}

export interface EventRecord extends EventRecordFields {
  yearMod4: number;
  /** 'hh:mm' from minuteOfDay. */
  time: string;
  className: string;
}

/** year = 4 * floor(currentYear / 4) + YY; a result after currentYear means four years earlier. */
export function reconstructYear(yearMod4: number, currentYear: number): number {
  const year = 4 * Math.floor(currentYear / 4) + (yearMod4 & 3);
  return year > currentYear ? year - 4 : year;
}

export function decodeEventRecord(b: Uint8Array, opts: { currentYear: number }): EventRecord {
  if (b.length !== 8) throw protocolError(`event record must be 8 bytes, got ${b.length}`);
  const [b0, b1, b2, b3, b4, b5, b6, b7] = b as unknown as [number, number, number, number, number, number, number, number];
  const yearMod4 = b0 >> 6;
  const minuteOfDay = ((b2 & 0x0f) << 8) | b3;
  const eventClass = (b1 >> 5) as EventClassNumber;
  return {
    notEmpty: (b0 & 0x20) !== 0,
    present: (b0 & 0x10) !== 0,
    s2: (b0 >> 2) & 3,
    s1: b0 & 3,
    yearMod4,
    year: reconstructYear(yearMod4, opts.currentYear),
    month: b2 >> 4,
    day: b1 & 0x1f,
    minuteOfDay,
    time: `${pad2(Math.floor(minuteOfDay / 60))}:${pad2(minuteOfDay % 60)}`,
    eventClass,
    className: EventClass[eventClass],
    partitionRaw: b4 >> 3,
    restore: (b4 & 0x04) !== 0,
    code: ((b4 & 0x03) << 8) | b5,
    source: b6,
    object: b7 >> 5,
    userControlNumber: b7 & 0x1f,
  };
}

export function encodeEventRecord(r: EventRecordFields): Buffer {
  const field = (name: string, v: number, max: number): number => {
    if (!Number.isInteger(v) || v < 0 || v > max) throw requestError(`event record ${name} ${v} outside 0..${max}`);
    return v;
  };
  const minutes = field('minuteOfDay', r.minuteOfDay, 0xfff);
  const code = field('code', r.code, 0x3ff);
  return Buffer.from([
    ((field('year', r.year, 9999) & 3) << 6) | (r.notEmpty ? 0x20 : 0) | (r.present ? 0x10 : 0) | (field('s2', r.s2, 3) << 2) | field('s1', r.s1, 3),
    (field('eventClass', r.eventClass, 7) << 5) | field('day', r.day, 31),
    (field('month', r.month, 15) << 4) | (minutes >> 8),
    minutes & 0xff,
    (field('partitionRaw', r.partitionRaw, 31) << 3) | (r.restore ? 0x04 : 0) | (code >> 8),
    code & 0xff,
    field('source', r.source, 255),
    (field('object', r.object, 7) << 5) | field('userControlNumber', r.userControlNumber, 31),
  ]);
}

// ---- 0x8C read event ----------------------------------------------------------------------------

function indexBytes(index: number): Buffer {
  if (!Number.isInteger(index) || index < 0 || index > 0xffffff) throw requestError(`event index ${index} outside 0..0xFFFFFF`);
  return Buffer.from([index >> 16, (index >> 8) & 0xff, index & 0xff]);
}

/** 0x8C + 3-byte big-endian index; EVENT_LOG_NEWEST reads the newest record. */
export function encodeReadEvent(index: number = EVENT_LOG_NEWEST): Message {
  return message(Cmd.readEvent, indexBytes(index));
}

export function decodeReadEventRequest(msg: Message): { index: number } {
  if (msg.cmd !== Cmd.readEvent) throw protocolError(`${hex(msg.cmd)} is not a read-event request`);
  if (msg.data.length !== 3) throw protocolError(`read-event request has ${msg.data.length} data bytes, expected 3`);
  return { index: msg.data.readUIntBE(0, 3) };
}

export interface ReadEventAnswer {
  record: EventRecord;
  /** Index of this record: send it with 0x8C to get the previous (older) one. */
  eventIndex: number;
  /** The index this answer was asked with, echoed. */
  calledIndex: number;
}

export function decodeReadEventAnswer(msg: Message, opts: { currentYear: number }): ReadEventAnswer {
  expectAnswer(msg, Cmd.readEvent, [14]);
  return {
    record: decodeEventRecord(msg.data.subarray(0, 8), opts),
    eventIndex: msg.data.readUIntBE(8, 3),
    calledIndex: msg.data.readUIntBE(11, 3),
  };
}

export function encodeReadEventAnswer(a: { record: EventRecordFields; eventIndex: number; calledIndex: number }): Message {
  return message(Cmd.readEvent, Buffer.concat([encodeEventRecord(a.record), indexBytes(a.eventIndex), indexBytes(a.calledIndex)]));
}

/** True when the answer marks the end of the standard log (Z = 0). */
export function isEndOfLog(answer: ReadEventAnswer): boolean {
  return !answer.record.notEmpty;
}

/** The request for the next older record, or undefined at the end of the log. */
export function olderEventRequest(answer: ReadEventAnswer): Message | undefined {
  return isEndOfLog(answer) ? undefined : encodeReadEvent(answer.eventIndex);
}

// ---- 0x8F event text ----------------------------------------------------------------------------

export interface EventTextQuery {
  /** 10-bit event code. */
  code: number;
  restore: boolean;
  /** Long (46 characters) or short (16 characters) description. */
  long: boolean;
}

const SHORT_TEXT = 16;
const LONG_TEXT = 46;
const TEXT_OFFSET = 5;

function textQueryBytes(q: EventTextQuery): Buffer {
  if (!Number.isInteger(q.code) || q.code < 0 || q.code > 0x3ff) throw requestError(`event code ${q.code} outside 0..1023`);
  return Buffer.from([(q.long ? 0x80 : 0) | (q.restore ? 0x04 : 0) | (q.code >> 8), q.code & 0xff]);
}

function parseTextQuery(b: Buffer): EventTextQuery {
  return { long: (b[0]! & 0x80) !== 0, restore: (b[0]! & 0x04) !== 0, code: ((b[0]! & 0x03) << 8) | b[1]! };
}

/** 0x8F + 2 bytes: bit15 long/short, then `R CC cccccccc` in the low 11 bits. */
export function encodeEventTextRequest(q: EventTextQuery): Message {
  return message(Cmd.eventText, textQueryBytes(q));
}

export function decodeEventTextRequest(msg: Message): EventTextQuery {
  if (msg.cmd !== Cmd.eventText) throw protocolError(`${hex(msg.cmd)} is not an event-text request`);
  if (msg.data.length !== 2) throw protocolError(`event-text request has ${msg.data.length} data bytes, expected 2`);
  return parseTextQuery(msg.data);
}

export interface EventText extends EventTextQuery {
  /** Description kind: byte 2 for a long text, bytes 3–4 for a short one (as the openHAB binding reads it). */
  kind: number;
  text: string;
}

/** Answer: the 2 request bytes echoed, 1 byte long kind, 2 bytes short kind, 16 or 46 text bytes (21 / 51). */
export function decodeEventTextAnswer(msg: Message, opts: { encoding?: string } = {}): EventText {
  expectAnswer(msg, Cmd.eventText, [TEXT_OFFSET + SHORT_TEXT, TEXT_OFFSET + LONG_TEXT]);
  const q = parseTextQuery(msg.data);
  const width = q.long ? LONG_TEXT : SHORT_TEXT;
  if (msg.data.length !== TEXT_OFFSET + width) {
    throw protocolError(`${q.long ? 'long' : 'short'} event text answer has ${msg.data.length} data bytes, expected ${TEXT_OFFSET + width}`);
  }
  const kind = q.long ? msg.data[2]! : msg.data.readUInt16BE(3);
  return { ...q, kind, text: decodeText(msg.data.subarray(TEXT_OFFSET), opts.encoding) };
}

export function encodeEventTextAnswer(a: EventTextQuery & { kind: number; text: string }): Message {
  const kinds = Buffer.alloc(3);
  if (a.long) kinds[0] = a.kind & 0xff;
  else kinds.writeUInt16BE(a.kind & 0xffff, 1);
  return message(Cmd.eventText, Buffer.concat([textQueryBytes(a), kinds, encodeText(a.text, a.long ? LONG_TEXT : SHORT_TEXT)]));
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}
