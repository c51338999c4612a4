// Public surface of the Satel INTEGRA integration-protocol codec: pure functions over bytes, no I/O, nothing
// of the project but platform/errors.ts (lint enforces it). The driver and the panel simulator import from
// here only. Client side: encode requests, decode answers. Panel side (simulator): the reverse.

// Errors of the codec (codes from the one catalogue in platform/errors.ts)
export { hex, protocolError, requestError } from './errors.ts';

// Framing
export { crc16, encodeFrame, FrameParser } from './frame.ts';
export type { FrameEvent } from './frame.ts';
export { message } from './types.ts';
export type { Message } from './types.ts';

// Objects, codes
export { BitmapBytes, bitmapToNumbers, decodeUserCode, encodeUserCode, numbersToBitmap } from './bitmap.ts';

// Commands, state queries, versions, new-data list
export {
  Cmd,
  cmdName,
  decodeBitmapState,
  decodeIntegraVersion,
  decodeModuleVersion,
  decodeNewData,
  decodeNewDataQuery,
  decodeRtc,
  decodeStateQuery,
  decodeTroubles,
  encodeBitmapState,
  encodeIntegraVersion,
  encodeModuleVersion,
  encodeMonitorRequest,
  encodeNewData,
  encodeNewDataQuery,
  encodeRtc,
  encodeStateQuery,
  encodeTroubles,
  EXTENDED_QUERY_BYTE,
  INTEGRA_256_PLUS,
  IntegraType,
  integraTypeName,
  isExtendableState,
  isKnownCmd,
  stateKind,
  supportsExtendedAnswers,
  TROUBLE_PART_BYTES,
} from './commands.ts';
export type {
  BitmapState,
  CmdCode,
  CmdName,
  FirmwareVersion,
  IntegraVersion,
  ModuleVersion,
  NewDataQuery,
  RtcStatus,
  StateKind,
  Troubles,
} from './commands.ts';

// Control commands and their 0xEF results
export {
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
export type { ArmMode, ControlAction, ControlRequest, UserCode } from './control.ts';
export { decodeResult, describeResult, encodeResult, ResultCode } from './result.ts';
export type { Result } from './result.ts';

// Event log and event texts
export {
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
  EVENT_LOG_GRADE23_NEWEST,
  EVENT_LOG_NEWEST,
  EventClass,
  isEndOfLog,
  olderEventRequest,
  reconstructYear,
} from './eventlog.ts';
export type { EventClassNumber, EventRecord, EventRecordFields, EventText, EventTextQuery, ReadEventAnswer } from './eventlog.ts';

// Device names
export { decodeDeviceName, decodeDeviceNameRequest, DeviceType, encodeDeviceName, encodeDeviceNameRequest, hasExtraByte } from './devices.ts';
export type { DeviceName, DeviceTypeCode } from './devices.ts';

// Client side: decode any answer by its command (monitoring pushes, logging)
export { decodeAnswer } from './answers.ts';
export type { Answer } from './answers.ts';

// Panel side: classify any request
export { decodeRequest } from './requests.ts';
export type { Request } from './requests.ts';

// ETHM-1 Plus integration encryption
export { integrationAesKey, IntegrationCipher, MAX_ENCRYPTED_FRAME_BYTES } from './crypto.ts';
export type { CipherError, IntegrationCipherOptions } from './crypto.ts';
