/**
 * Command codes and the read-only commands (state, RTC, troubles, versions, new-data list), in both
 * directions: the client encodes requests and decodes answers, the panel simulator the reverse.
 */
import { BitmapBytes, bcdToNumber, bitmapToNumbers, numberToBcd, numbersToBitmap } from './bitmap.ts';
import { hex, protocolError, requestError } from './errors.ts';
import { describeResult, RESULT_CMD } from './result.ts';
import { message } from './types.ts';
import type { Message } from './types.ts';

export const Cmd = {
  zonesViolation: 0x00,
  zonesTamper: 0x01,
  zonesAlarm: 0x02,
  zonesTamperAlarm: 0x03,
  zonesAlarmMemory: 0x04,
  zonesTamperAlarmMemory: 0x05,
  zonesBypass: 0x06,
  zonesNoViolationTrouble: 0x07,
  zonesLongViolationTrouble: 0x08,
  armedPartitionsSuppressed: 0x09,
  armedPartitionsReally: 0x0a,
  partitionsArmedMode2: 0x0b,
  partitionsArmedMode3: 0x0c,
  partitionsFirstCodeEntered: 0x0d,
  partitionsEntryTime: 0x0e,
  partitionsExitTimeOver10s: 0x0f,
  partitionsExitTimeUnder10s: 0x10,
  partitionsTemporarilyBlocked: 0x11,
  partitionsBlockedForGuardRound: 0x12,
  partitionsAlarm: 0x13,
  partitionsFireAlarm: 0x14,
  partitionsAlarmMemory: 0x15,
  partitionsFireAlarmMemory: 0x16,
  outputsState: 0x17,
  doorsOpened: 0x18,
  doorsOpenedLong: 0x19,
  rtcAndStatus: 0x1a,
  troublesPart1: 0x1b,
  troublesPart2: 0x1c,
  troublesPart3: 0x1d,
  troublesPart4: 0x1e,
  troublesPart5: 0x1f,
  partitionsArmedMode1: 0x2a,
  moduleVersion: 0x7c,
  integraVersion: 0x7e,
  newData: 0x7f,
  armMode0: 0x80,
  armMode1: 0x81,
  armMode2: 0x82,
  armMode3: 0x83,
  disarm: 0x84,
  clearAlarm: 0x85,
  bypassZones: 0x86,
  unbypassZones: 0x87,
  outputsOn: 0x88,
  outputsOff: 0x89,
  clearTroubleMemory: 0x8b,
  readEvent: 0x8c,
  eventText: 0x8f,
  forceArmMode0: 0xa0,
  forceArmMode1: 0xa1,
  forceArmMode2: 0xa2,
  forceArmMode3: 0xa3,
  deviceName: 0xee,
  result: 0xef,
} as const;
type CmdName = keyof typeof Cmd;

const NAMES = new Map<number, CmdName>(Object.entries(Cmd).map(([k, v]) => [v, k as CmdName]));

/** `cmdName(0x17)` → 'outputsState'; an unknown code → '0x42'. */
export function cmdName(cmd: number): string {
  return NAMES.get(cmd) ?? hex(cmd);
}

// ---- State queries 0x00–0x2F --------------------------------------------------------------------

/** What a state command's answer holds. */
export type StateKind = 'zones' | 'outputs' | 'partitions' | 'doors' | 'rtc' | 'troubles';

export function stateKind(cmd: number): StateKind | undefined {
  if (cmd >= 0x00 && cmd <= 0x08) return 'zones';
  if (cmd === Cmd.outputsState) return 'outputs';
  if ((cmd >= 0x09 && cmd <= 0x16) || cmd === Cmd.partitionsArmedMode1) return 'partitions';
  if (cmd === Cmd.doorsOpened || cmd === Cmd.doorsOpenedLong) return 'doors';
  if (cmd === Cmd.rtcAndStatus) return 'rtc';
  if (cmd >= Cmd.troublesPart1 && cmd <= Cmd.troublesPart5) return 'troubles';
  return undefined;
}

/** Zone and output states come as 16 bytes, or 32 when the query carries one extra byte. */
export function isExtendableState(cmd: number): boolean {
  const kind = stateKind(cmd);
  return kind === 'zones' || kind === 'outputs';
}

/** The byte appended to a query to ask for a 32-byte (or 6-byte 0x7F) answer; the panel accepts any. */
const EXTENDED_QUERY_BYTE = 0xff;

/** A state query: `cmd`, plus one byte when `extended` (zones/outputs only) for a 32-byte answer. */
export function encodeStateQuery(cmd: number, opts: { extended?: boolean } = {}): Message {
  if (stateKind(cmd) === undefined) throw requestError(`${hex(cmd)} is not a state query`);
  if (opts.extended === true) {
    if (!isExtendableState(cmd)) throw requestError(`${cmdName(cmd)} has no 32-byte form`);
    return message(cmd, Uint8Array.of(EXTENDED_QUERY_BYTE));
  }
  return message(cmd);
}

/** Panel side: a state query and whether it asks for the 32-byte answer. */
export function decodeStateQuery(msg: Message): { cmd: number; kind: StateKind; extended: boolean } {
  const kind = stateKind(msg.cmd);
  if (kind === undefined) throw protocolError(`${hex(msg.cmd)} is not a state query`);
  const max = isExtendableState(msg.cmd) ? 1 : 0;
  if (msg.data.length > max) throw protocolError(`${cmdName(msg.cmd)} query with ${msg.data.length} data bytes (at most ${max})`);
  return { cmd: msg.cmd, kind, extended: msg.data.length === 1 };
}

export interface BitmapState {
  cmd: number;
  kind: 'zones' | 'outputs' | 'partitions' | 'doors';
  /** Numbers (from 1) of the objects in this state. */
  active: number[];
  /** Objects the answer covers: 128/256 zones or outputs, 32 partitions, 64 doors. */
  capacity: number;
}

function bitmapSizes(kind: BitmapState['kind']): readonly number[] {
  if (kind === 'partitions') return [BitmapBytes.partitions];
  if (kind === 'doors') return [BitmapBytes.doors];
  return [BitmapBytes.zones, BitmapBytes.zonesExtended];
}

function bitmapKind(cmd: number): BitmapState['kind'] | undefined {
  const kind = stateKind(cmd);
  return kind === 'rtc' || kind === 'troubles' ? undefined : kind;
}

/** Client side: the answer to a zone/output/partition/door state query. */
export function decodeBitmapState(msg: Message): BitmapState {
  const kind = bitmapKind(msg.cmd);
  if (kind === undefined) throw protocolError(`${hex(msg.cmd)} is not a zone/output/partition/door state`);
  const sizes = bitmapSizes(kind);
  if (!sizes.includes(msg.data.length)) {
    throw protocolError(`${cmdName(msg.cmd)} answer has ${msg.data.length} bytes, expected ${sizes.join(' or ')}`);
  }
  return { cmd: msg.cmd, kind, active: bitmapToNumbers(msg.data), capacity: msg.data.length * 8 };
}

/** Panel side: the answer to a bitmap state query. */
export function encodeBitmapState(cmd: number, active: Iterable<number>, opts: { extended?: boolean } = {}): Message {
  const kind = bitmapKind(cmd);
  if (kind === undefined) throw requestError(`${hex(cmd)} is not a zone/output/partition/door state`);
  const sizes = bitmapSizes(kind);
  const bytes = opts.extended === true && sizes.length > 1 ? sizes[1]! : sizes[0]!;
  return message(cmd, numbersToBitmap(active, bytes));
}

// ---- 0x1A RTC and basic status --------------------------------------------------------------------

export interface RtcStatus {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** The two status bytes after the clock, as sent. */
  status1: number;
  status2: number;
}

export function decodeRtc(msg: Message): RtcStatus {
  expectAnswer(msg, Cmd.rtcAndStatus, [9]);
  const d = msg.data;
  const n = (i: number): number => bcdToNumber(d[i]!);
  return { year: n(0) * 100 + n(1), month: n(2), day: n(3), hour: n(4), minute: n(5), second: n(6), status1: d[7]!, status2: d[8]! };
}

export function encodeRtc(rtc: RtcStatus): Message {
  if (!Number.isInteger(rtc.year) || rtc.year < 0 || rtc.year > 9999) throw requestError(`year ${rtc.year} does not fit 4 BCD digits`);
  const bytes = [Math.floor(rtc.year / 100), rtc.year % 100, rtc.month, rtc.day, rtc.hour, rtc.minute, rtc.second].map(numberToBcd);
  return message(Cmd.rtcAndStatus, Uint8Array.of(...bytes, rtc.status1 & 0xff, rtc.status2 & 0xff));
}

// ---- 0x1B–0x1F troubles ---------------------------------------------------------------------------

/** Answer lengths of troubles parts 1–5 (0x1B–0x1F). */
export const TROUBLE_PART_BYTES = { 0x1b: 47, 0x1c: 26, 0x1d: 60, 0x1e: 30, 0x1f: 31 } as const;

export interface Troubles {
  cmd: number;
  /** 1–5 */
  part: number;
  /** The raw trouble bitmap of this part (its layout is in the manual's trouble tables). */
  data: Buffer;
  /** True when any trouble bit is set. */
  any: boolean;
}

function troubleBytes(cmd: number): number | undefined {
  return (TROUBLE_PART_BYTES as Record<number, number | undefined>)[cmd];
}

export function decodeTroubles(msg: Message): Troubles {
  const len = troubleBytes(msg.cmd);
  if (len === undefined) throw protocolError(`${hex(msg.cmd)} is not a troubles part`);
  expectAnswer(msg, msg.cmd, [len]);
  return { cmd: msg.cmd, part: msg.cmd - Cmd.troublesPart1 + 1, data: Buffer.from(msg.data), any: msg.data.some((b) => b !== 0) };
}

export function encodeTroubles(cmd: number, data: Uint8Array = new Uint8Array(0)): Message {
  const len = troubleBytes(cmd);
  if (len === undefined) throw requestError(`${hex(cmd)} is not a troubles part`);
  if (data.length > len) throw requestError(`troubles part ${cmd - Cmd.troublesPart1 + 1} holds ${len} bytes, got ${data.length}`);
  const out = Buffer.alloc(len);
  out.set(data);
  return message(cmd, out);
}

// ---- 0x7C module version, 0x7E INTEGRA version -----------------------------------------------------

const IntegraType = {
  0: 'INTEGRA 24',
  1: 'INTEGRA 32',
  2: 'INTEGRA 64',
  3: 'INTEGRA 128',
  4: 'INTEGRA 128-WRL SIM300',
  66: 'INTEGRA 64 Plus',
  67: 'INTEGRA 128 Plus',
  72: 'INTEGRA 256 Plus',
  132: 'INTEGRA 128-WRL LEON',
} as const satisfies Record<number, string>;
const INTEGRA_256_PLUS = 72;

export function integraTypeName(type: number): string {
  return (IntegraType as Record<number, string | undefined>)[type] ?? `unknown INTEGRA type ${type}`;
}

/** An 11-character version string `12320120527` → version 1.23 of 2012-05-27. */
interface FirmwareVersion {
  raw: string;
  version: string;
  date: string;
}

function parseVersion(bytes: Buffer): FirmwareVersion {
  const raw = bytes.toString('latin1');
  if (!/^\d{11}$/.test(raw)) throw protocolError(`version "${raw}" is not 11 digits`);
  return { raw, version: `${raw[0]}.${raw.slice(1, 3)}`, date: `${raw.slice(3, 7)}-${raw.slice(7, 9)}-${raw.slice(9, 11)}` };
}

function versionBytes(raw: string): Buffer {
  if (!/^\d{11}$/.test(raw)) throw requestError(`version "${raw}" must be 11 digits (e.g. 12320120527)`);
  return Buffer.from(raw, 'latin1');
}

export interface ModuleVersion extends FirmwareVersion {
  flags: number;
  /** Flag bit0: the module answers 32-byte zone/output states (with INTEGRA 256 Plus). */
  supports32ByteAnswers: boolean;
}

export function decodeModuleVersion(msg: Message): ModuleVersion {
  expectAnswer(msg, Cmd.moduleVersion, [12]);
  const flags = msg.data[11]!;
  return { ...parseVersion(msg.data.subarray(0, 11)), flags, supports32ByteAnswers: (flags & 0x01) !== 0 };
}

export function encodeModuleVersion(v: { raw: string; flags: number }): Message {
  return message(Cmd.moduleVersion, Buffer.concat([versionBytes(v.raw), Uint8Array.of(v.flags & 0xff)]));
}

export interface IntegraVersion extends FirmwareVersion {
  type: number;
  typeName: string;
  language: number;
  /** Last byte 0xFF: settings are stored in flash. */
  settingsInFlash: boolean;
}

export function decodeIntegraVersion(msg: Message): IntegraVersion {
  expectAnswer(msg, Cmd.integraVersion, [14]);
  const type = msg.data[0]!;
  return {
    type,
    typeName: integraTypeName(type),
    ...parseVersion(msg.data.subarray(1, 12)),
    language: msg.data[12]!,
    settingsInFlash: msg.data[13] === 0xff,
  };
}

export function encodeIntegraVersion(v: { type: number; raw: string; language: number; settingsInFlash: boolean }): Message {
  const tail = Uint8Array.of(v.language & 0xff, v.settingsInFlash ? 0xff : 0x00);
  return message(Cmd.integraVersion, Buffer.concat([Uint8Array.of(v.type & 0xff), versionBytes(v.raw), tail]));
}

/** Ask for 32-byte zone/output states only when the module can (0x7C bit0) and the panel is type 72. */
export function supportsExtendedAnswers(module: ModuleVersion, integra: IntegraVersion): boolean {
  return module.supports32ByteAnswers && integra.type === INTEGRA_256_PLUS;
}

// ---- 0x7F new data list / monitoring -------------------------------------------------------------

const MONITOR_MASK_BYTES = 12;

/** Poll the new-data list: 5-byte answer (commands 0x00–0x27), 6 bytes (to 0x2F) when `extended`. */
export function encodeNewDataQuery(opts: { extended?: boolean } = {}): Message {
  return opts.extended === true ? message(Cmd.newData, Uint8Array.of(EXTENDED_QUERY_BYTE)) : message(Cmd.newData);
}

/** `0x7F` + 12 bytes: ask a newer module to push the listed commands' frames unsolicited (answer `EF FF`). */
export function encodeMonitorRequest(cmds: Iterable<number>): Message {
  return message(Cmd.newData, bitsOf(cmds, MONITOR_MASK_BYTES));
}

export type NewDataQuery = { mode: 'poll'; extended: boolean } | { mode: 'monitor'; cmds: Set<number> };

export function decodeNewDataQuery(msg: Message): NewDataQuery {
  if (msg.cmd !== Cmd.newData) throw protocolError(`${hex(msg.cmd)} is not a new-data query`);
  if (msg.data.length <= 1) return { mode: 'poll', extended: msg.data.length === 1 };
  if (msg.data.length === MONITOR_MASK_BYTES) return { mode: 'monitor', cmds: setOfBits(msg.data) };
  throw protocolError(`new-data query with ${msg.data.length} data bytes (0, 1 or ${MONITOR_MASK_BYTES})`);
}

/** The commands whose data changed since last read (bit n = command n). */
export function decodeNewData(msg: Message): Set<number> {
  expectAnswer(msg, Cmd.newData, [5, 6]);
  return setOfBits(msg.data);
}

export function encodeNewData(changed: Iterable<number>, opts: { extended?: boolean } = {}): Message {
  return message(Cmd.newData, bitsOf(changed, opts.extended === true ? 6 : 5));
}

/** Bit n (from 0, LSB first) = command n. */
function setOfBits(bytes: Uint8Array): Set<number> {
  return new Set(bitmapToNumbers(bytes).map((n) => n - 1));
}

function bitsOf(cmds: Iterable<number>, bytes: number): Buffer {
  return numbersToBitmap([...cmds].map((c) => c + 1), bytes);
}

// ---- helpers -------------------------------------------------------------------------------------

/** Throws unless `msg` is an answer to `cmd` with one of the allowed data lengths. */
export function expectAnswer(msg: Message, cmd: number, lengths: readonly number[]): void {
  if (msg.cmd === RESULT_CMD && cmd !== RESULT_CMD && msg.data.length === 1) {
    const code = msg.data[0]!;
    throw protocolError(`panel answered ${cmdName(cmd)} with result ${hex(code)}: ${describeResult(code)}`, { cmd, result: code });
  }
  if (msg.cmd !== cmd) throw protocolError(`expected a ${cmdName(cmd)} (${hex(cmd)}) frame, got ${cmdName(msg.cmd)} (${hex(msg.cmd)})`);
  if (!lengths.includes(msg.data.length)) {
    throw protocolError(`${cmdName(cmd)} answer has ${msg.data.length} data bytes, expected ${lengths.join(' or ')}`, {
      cmd,
      length: msg.data.length,
    });
  }
}
