// Public surface of the Satel INTEGRA integration-protocol codec: pure functions over bytes, no I/O, nothing
// of the project but platform/errors.ts (lint enforces it). The driver and the panel simulator import from
// here only, and only what they use is exported. Client side: encode requests, decode answers. Panel side
// (simulator): the reverse.

// Errors of the codec (codes from the one catalogue in platform/errors.ts)
export { hex, protocolError } from './errors.ts';

// Framing
export { crc16, encodeFrame, FrameParser } from './frame.ts';
export type { FrameEvent } from './frame.ts';
export { message } from './types.ts';
export type { Message } from './types.ts';

// Commands, state queries, versions, new-data list
export {
  Cmd,
  cmdName,
  decodeBitmapState,
  decodeIntegraVersion,
  decodeModuleVersion,
  decodeNewData,
  decodeTroubles,
  encodeIntegraVersion,
  encodeModuleVersion,
  encodeMonitorRequest,
  encodeNewDataQuery,
  encodeRtc,
  encodeStateQuery,
  isExtendableState,
  supportsExtendedAnswers,
} from './commands.ts';

// Control commands and their 0xEF results
export {
  encodeArm,
  encodeBypassZones,
  encodeClearAlarm,
  encodeClearTroubleMemory,
  encodeDisarm,
  encodeOutputsOff,
  encodeOutputsOn,
} from './control.ts';
export type { UserCode } from './control.ts';
export { decodeResult, describeResult, encodeResult, ResultCode } from './result.ts';

// Event log and event texts
export {
  decodeEventTextAnswer,
  decodeReadEventAnswer,
  encodeEventTextAnswer,
  encodeEventTextRequest,
  encodeReadEvent,
  encodeReadEventAnswer,
  EVENT_LOG_NEWEST,
  isEndOfLog,
} from './eventlog.ts';
export type { EventRecord, EventRecordFields } from './eventlog.ts';

// Device names
export { decodeDeviceName, decodeDeviceNameRequest, DeviceType, encodeDeviceName, encodeDeviceNameRequest } from './devices.ts';

// Panel side: classify any request
export { decodeRequest } from './requests.ts';

// ETHM-1 Plus integration encryption
export { IntegrationCipher } from './crypto.ts';
