/**
 * Control commands (arm, force arm, disarm, clear alarm, bypass, outputs, clear trouble memory): a user
 * code followed by an object bitmap. The panel answers each with an 0xEF result (see result.ts).
 */
import { BitmapBytes, bitmapToNumbers, decodeUserCode, encodeUserCode, numbersToBitmap } from './bitmap.ts';
import { Cmd, cmdName } from './commands.ts';
import { hex, protocolError, requestError } from './errors.ts';
import { message } from './types.ts';
import type { Message } from './types.ts';

/** Never log it. `prefix` is the optional code prefix some panels are configured with. */
export interface UserCode {
  code: string;
  prefix?: string;
}

type ArmMode = 0 | 1 | 2 | 3;

const CODE_BYTES = 8;

function withCode(cmd: number, user: UserCode, tail: Uint8Array = new Uint8Array(0)): Message {
  return message(cmd, Buffer.concat([encodeUserCode(user.code, user.prefix), tail]));
}

function checkMode(mode: number): asserts mode is ArmMode {
  if (mode !== 0 && mode !== 1 && mode !== 2 && mode !== 3) throw requestError(`arm mode must be 0..3, got ${String(mode)}`);
}

/** 0x80–0x83 arm in mode 0–3, or with `force` 0xA0–0xA3 (arms despite violated zones / troubles). */
export function encodeArm(mode: ArmMode, user: UserCode, partitions: Iterable<number>, opts: { force?: boolean } = {}): Message {
  checkMode(mode);
  const base = opts.force === true ? Cmd.forceArmMode0 : Cmd.armMode0;
  return withCode(base + mode, user, numbersToBitmap(partitions, BitmapBytes.partitions));
}

export function encodeDisarm(user: UserCode, partitions: Iterable<number>): Message {
  return withCode(Cmd.disarm, user, numbersToBitmap(partitions, BitmapBytes.partitions));
}

export function encodeClearAlarm(user: UserCode, partitions: Iterable<number>): Message {
  return withCode(Cmd.clearAlarm, user, numbersToBitmap(partitions, BitmapBytes.partitions));
}

type Extended = { extended?: boolean };
const objectBytes = (opts: Extended): number => (opts.extended === true ? BitmapBytes.zonesExtended : BitmapBytes.zones);

export function encodeBypassZones(user: UserCode, zones: Iterable<number>, opts: Extended = {}): Message {
  return withCode(Cmd.bypassZones, user, numbersToBitmap(zones, objectBytes(opts)));
}

export function encodeUnbypassZones(user: UserCode, zones: Iterable<number>, opts: Extended = {}): Message {
  return withCode(Cmd.unbypassZones, user, numbersToBitmap(zones, objectBytes(opts)));
}

export function encodeOutputsOn(user: UserCode, outputs: Iterable<number>, opts: Extended = {}): Message {
  return withCode(Cmd.outputsOn, user, numbersToBitmap(outputs, objectBytes(opts)));
}

export function encodeOutputsOff(user: UserCode, outputs: Iterable<number>, opts: Extended = {}): Message {
  return withCode(Cmd.outputsOff, user, numbersToBitmap(outputs, objectBytes(opts)));
}

export function encodeClearTroubleMemory(user: UserCode): Message {
  return withCode(Cmd.clearTroubleMemory, user);
}

export type ControlRequest =
  | { action: 'arm' | 'forceArm'; cmd: number; mode: ArmMode; userCode: string; partitions: number[] }
  | { action: 'disarm' | 'clearAlarm'; cmd: number; userCode: string; partitions: number[] }
  | { action: 'bypassZones' | 'unbypassZones'; cmd: number; userCode: string; zones: number[]; extended: boolean }
  | { action: 'outputsOn' | 'outputsOff'; cmd: number; userCode: string; outputs: number[]; extended: boolean }
  | { action: 'clearTroubleMemory'; cmd: number; userCode: string };

export function isControlCmd(cmd: number): boolean {
  return (
    (cmd >= Cmd.armMode0 && cmd <= Cmd.outputsOff) || cmd === Cmd.clearTroubleMemory || (cmd >= Cmd.forceArmMode0 && cmd <= Cmd.forceArmMode3)
  );
}

/** Panel side: which control command, with the user code digits and the objects it names. */
export function decodeControlRequest(msg: Message): ControlRequest {
  const { cmd, data } = msg;
  if (!isControlCmd(cmd)) throw protocolError(`${hex(cmd)} is not a control command`);
  const need = (lengths: readonly number[]): void => {
    if (!lengths.includes(data.length)) {
      throw protocolError(`${cmdName(cmd)} request has ${data.length} data bytes, expected ${lengths.join(' or ')}`);
    }
  };
  const userCode = (): string => decodeUserCode(data.subarray(0, CODE_BYTES));
  const objects = (): number[] => bitmapToNumbers(data.subarray(CODE_BYTES));
  const extended = data.length === CODE_BYTES + BitmapBytes.zonesExtended;
  const objectLengths = [CODE_BYTES + BitmapBytes.zones, CODE_BYTES + BitmapBytes.zonesExtended];
  const partitionLength = [CODE_BYTES + BitmapBytes.partitions];

  if ((cmd >= Cmd.armMode0 && cmd <= Cmd.armMode3) || (cmd >= Cmd.forceArmMode0 && cmd <= Cmd.forceArmMode3)) {
    need(partitionLength);
    const mode = (cmd & 0x03) as ArmMode;
    return { action: cmd >= Cmd.forceArmMode0 ? 'forceArm' : 'arm', cmd, mode, userCode: userCode(), partitions: objects() };
  }
  switch (cmd) {
    case Cmd.disarm:
    case Cmd.clearAlarm:
      need(partitionLength);
      return { action: cmd === Cmd.disarm ? 'disarm' : 'clearAlarm', cmd, userCode: userCode(), partitions: objects() };
    case Cmd.bypassZones:
    case Cmd.unbypassZones:
      need(objectLengths);
      return { action: cmd === Cmd.bypassZones ? 'bypassZones' : 'unbypassZones', cmd, userCode: userCode(), zones: objects(), extended };
    case Cmd.outputsOn:
    case Cmd.outputsOff:
      need(objectLengths);
      return { action: cmd === Cmd.outputsOn ? 'outputsOn' : 'outputsOff', cmd, userCode: userCode(), outputs: objects(), extended };
    default:
      need([CODE_BYTES]);
      return { action: 'clearTroubleMemory', cmd, userCode: userCode() };
  }
}
