/**
 * Client side: one entry point that decodes any answer frame by its command byte — for monitoring mode,
 * where the module pushes frames unsolicited, and for logging what arrived. When the client knows what it
 * asked, the specific decoder (decodeBitmapState, decodeResult …) says the same with a narrower type.
 */
import {
  Cmd,
  decodeBitmapState,
  decodeIntegraVersion,
  decodeModuleVersion,
  decodeNewData,
  decodeRtc,
  decodeTroubles,
  stateKind,
} from './commands.ts';
import type { BitmapState, IntegraVersion, ModuleVersion, RtcStatus, Troubles } from './commands.ts';
import { decodeDeviceName } from './devices.ts';
import type { DeviceName } from './devices.ts';
import { hex, protocolError } from './errors.ts';
import { decodeEventTextAnswer, decodeReadEventAnswer } from './eventlog.ts';
import type { EventText, ReadEventAnswer } from './eventlog.ts';
import { decodeResult, RESULT_CMD } from './result.ts';
import type { Result } from './result.ts';
import type { Message } from './types.ts';

/** Discriminated by `answer` (the payload types have their own `kind` / `type` fields). */
type Answer =
  | ({ answer: 'state' } & BitmapState)
  | ({ answer: 'rtc' } & RtcStatus)
  | ({ answer: 'troubles' } & Troubles)
  | ({ answer: 'moduleVersion' } & ModuleVersion)
  | ({ answer: 'integraVersion' } & IntegraVersion)
  | { answer: 'newData'; changed: Set<number> }
  | ({ answer: 'readEvent' } & ReadEventAnswer)
  | ({ answer: 'eventText' } & EventText)
  | ({ answer: 'deviceName' } & DeviceName)
  | ({ answer: 'result' } & Result);

/** Throws E_SATEL_PROTOCOL for unknown commands and malformed answers (with `details.cmd` when unknown). */
export function decodeAnswer(msg: Message, opts: { currentYear: number; encoding?: string }): Answer {
  switch (stateKind(msg.cmd)) {
    case 'rtc':
      return { answer: 'rtc', ...decodeRtc(msg) };
    case 'troubles':
      return { answer: 'troubles', ...decodeTroubles(msg) };
    case undefined:
      break;
    default:
      return { answer: 'state', ...decodeBitmapState(msg) };
  }
  const text = opts.encoding === undefined ? {} : { encoding: opts.encoding };
  switch (msg.cmd) {
    case Cmd.moduleVersion:
      return { answer: 'moduleVersion', ...decodeModuleVersion(msg) };
    case Cmd.integraVersion:
      return { answer: 'integraVersion', ...decodeIntegraVersion(msg) };
    case Cmd.newData:
      return { answer: 'newData', changed: decodeNewData(msg) };
    case Cmd.readEvent:
      return { answer: 'readEvent', ...decodeReadEventAnswer(msg, opts) };
    case Cmd.eventText:
      return { answer: 'eventText', ...decodeEventTextAnswer(msg, text) };
    case Cmd.deviceName:
      return { answer: 'deviceName', ...decodeDeviceName(msg, text) };
    case RESULT_CMD:
      return { answer: 'result', ...decodeResult(msg) };
    default:
      throw protocolError(`no answer is defined for command ${hex(msg.cmd)}`, { cmd: msg.cmd });
  }
}
