/** 0xEE device name: the configured name and function of a partition, zone, user, module or output. */
import { Cmd, expectAnswer } from './commands.ts';
import { hex, protocolError, requestError } from './errors.ts';
import { decodeText, encodeText } from './text.ts';
import { message } from './types.ts';
import type { Message } from './types.ts';

export const DeviceType = {
  partition: 0,
  zone: 1,
  user: 2,
  /** Expander or LCD keypad (addressed by module number). */
  expanderOrLcd: 3,
  output: 4,
  /** Zone, answered with its partition in the extra byte. */
  zoneWithPartition: 5,
} as const;
export type DeviceTypeCode = (typeof DeviceType)[keyof typeof DeviceType];

const NAME_BYTES = 16;
const BASE_ANSWER_BYTES = 3 + NAME_BYTES;

/** Types 2 (user) and 5 (zone with partition) carry one extra byte after the name. */
export function hasExtraByte(type: number): boolean {
  return type === DeviceType.user || type === DeviceType.zoneWithPartition;
}

function checkType(type: number, fail: (m: string) => Error): DeviceTypeCode {
  if (!Number.isInteger(type) || type < 0 || type > 5) throw fail(`device type ${String(type)} outside 0..5`);
  return type as DeviceTypeCode;
}

/** Numbers run 1..256; 256 is sent as 0. */
function numberByte(n: number): number {
  if (!Number.isInteger(n) || n < 1 || n > 256) throw requestError(`device number ${String(n)} outside 1..256`);
  return n & 0xff;
}

const numberFromByte = (b: number): number => (b === 0 ? 256 : b);

export function encodeDeviceNameRequest(type: DeviceTypeCode, number: number): Message {
  return message(Cmd.deviceName, Uint8Array.of(checkType(type, requestError), numberByte(number)));
}

export function decodeDeviceNameRequest(msg: Message): { type: DeviceTypeCode; number: number } {
  if (msg.cmd !== Cmd.deviceName) throw protocolError(`${hex(msg.cmd)} is not a device-name request`);
  if (msg.data.length !== 2) throw protocolError(`device-name request has ${msg.data.length} data bytes, expected 2`);
  return { type: checkType(msg.data[0]!, protocolError), number: numberFromByte(msg.data[1]!) };
}

export interface DeviceName {
  type: DeviceTypeCode;
  number: number;
  /** Partition type, zone reaction, output function, module model … depending on the type. */
  function: number;
  /** The 16-byte name, trimmed. */
  name: string;
  /** Extra byte of types 2 and 5 (for 5: the zone's partition); undefined for the others. */
  extra: number | undefined;
}

export function decodeDeviceName(msg: Message, opts: { encoding?: string } = {}): DeviceName {
  expectAnswer(msg, Cmd.deviceName, [BASE_ANSWER_BYTES, BASE_ANSWER_BYTES + 1]);
  const type = checkType(msg.data[0]!, protocolError);
  const want = BASE_ANSWER_BYTES + (hasExtraByte(type) ? 1 : 0);
  if (msg.data.length !== want) throw protocolError(`device-name answer for type ${type} has ${msg.data.length} data bytes, expected ${want}`);
  return {
    type,
    number: numberFromByte(msg.data[1]!),
    function: msg.data[2]!,
    name: decodeText(msg.data.subarray(3, 3 + NAME_BYTES), opts.encoding),
    extra: hasExtraByte(type) ? msg.data[BASE_ANSWER_BYTES]! : undefined,
  };
}

export function encodeDeviceName(d: { type: DeviceTypeCode; number: number; function: number; name: string; extra?: number }): Message {
  const type = checkType(d.type, requestError);
  const head = Uint8Array.of(type, numberByte(d.number), d.function & 0xff);
  const tail = hasExtraByte(type) ? Uint8Array.of((d.extra ?? 0) & 0xff) : new Uint8Array(0);
  return message(Cmd.deviceName, Buffer.concat([head, encodeText(d.name, NAME_BYTES), tail]));
}
