/**
 * Panel side: one entry point that classifies any client request frame. The simulator switches on `kind`
 * and answers with the matching encoder (encodeBitmapState, encodeResult, encodeReadEventAnswer …).
 */
import { Cmd, decodeNewDataQuery, decodeStateQuery, stateKind } from './commands.ts';
import type { NewDataQuery, StateKind } from './commands.ts';
import { decodeControlRequest, isControlCmd } from './control.ts';
import type { ControlRequest } from './control.ts';
import { decodeDeviceNameRequest } from './devices.ts';
import type { DeviceTypeCode } from './devices.ts';
import { hex, protocolError } from './errors.ts';
import { decodeEventTextRequest, decodeReadEventRequest } from './eventlog.ts';
import type { EventTextQuery } from './eventlog.ts';
import type { Message } from './types.ts';

type Request =
  | { kind: 'state'; cmd: number; state: StateKind; extended: boolean }
  | { kind: 'moduleVersion' }
  | { kind: 'integraVersion' }
  | ({ kind: 'newData' } & NewDataQuery)
  | ({ kind: 'control' } & ControlRequest)
  | { kind: 'readEvent'; index: number }
  | ({ kind: 'eventText' } & EventTextQuery)
  | { kind: 'deviceName'; type: DeviceTypeCode; number: number };

function noData(msg: Message, name: string): void {
  if (msg.data.length !== 0) throw protocolError(`${name} request has ${msg.data.length} data bytes, expected none`);
}

/** Classifies a request; throws E_SATEL_PROTOCOL for unknown commands and malformed data (with `details.cmd`). */
export function decodeRequest(msg: Message): Request {
  switch (msg.cmd) {
    case Cmd.moduleVersion:
      noData(msg, 'module version');
      return { kind: 'moduleVersion' };
    case Cmd.integraVersion:
      noData(msg, 'INTEGRA version');
      return { kind: 'integraVersion' };
    case Cmd.newData:
      return { kind: 'newData', ...decodeNewDataQuery(msg) };
    case Cmd.readEvent:
      return { kind: 'readEvent', ...decodeReadEventRequest(msg) };
    case Cmd.eventText:
      return { kind: 'eventText', ...decodeEventTextRequest(msg) };
    case Cmd.deviceName:
      return { kind: 'deviceName', ...decodeDeviceNameRequest(msg) };
    default:
      break;
  }
  if (isControlCmd(msg.cmd)) return { kind: 'control', ...decodeControlRequest(msg) };
  if (stateKind(msg.cmd) !== undefined) {
    const q = decodeStateQuery(msg);
    return { kind: 'state', cmd: q.cmd, state: q.kind, extended: q.extended };
  }
  throw protocolError(`unknown command ${hex(msg.cmd)}`, { cmd: msg.cmd });
}
