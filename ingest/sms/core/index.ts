// Public surface of the SMS core: pure functions over lines, PDUs and text, no I/O, nothing of the project
// but platform/errors.ts and platform/validate.ts (lint enforces it). The modem driver, the gateway's Efento
// webhook and the modem simulator import from here only.

// AT lines, commands and the command/answer state machine
export { createLineSplitter } from './lines.ts';
export type { LineEvent, LineSplitter } from './lines.ts';
export { CMS, commands, isPduLine, parseCmgl, parseCmgr, parseCpms, parseCsq, parseFinal, parseUrc } from './at.ts';
export type { AtCommand, FinalResult, Urc } from './at.ts';
export { createAtSession } from './session.ts';
export type { AtSession, Failure, InfoLine, Reply, SessionEvent } from './session.ts';

// PDUs (decoding for the driver, encoding and splitting for the simulator) and long messages
export { decodeDeliver, encodeDeliver, splitText } from './pdu.ts';
export type { Concat, DeliverInput, SmsEncoding, SmsPart } from './pdu.ts';
export { toSeptets } from './gsm7.ts';
export { createReassembly } from './multipart.ts';
export type { Assembled, Reassembly, StoredPart } from './multipart.ts';

// From text to SmsEvent: templates, sensors, identity; Efento webhooks
export { normalizeText } from './text.ts';
export { TEMPLATE_KINDS, parseTemplates, recognise, templatesFor } from './templates.ts';
export type { Match, Template } from './templates.ts';
export { CATCH_ALL_SENSOR, MODEM_SENSOR, createSensorDirectory, sameSender } from './directory.ts';
export type { Resolution, SensorDirectory, SensorEntry } from './directory.ts';
export { eventIdOf, interpretSms, modemEvent, smsDedupKey, undecodableSms } from './interpret.ts';
export type { InterpretContext, ReceivedSms } from './interpret.ts';
export { EFENTO_CLOUD_SENDER, EfentoAlertSchema, efentoAlertEvent } from './efento.ts';
export type { EfentoAlert } from './efento.ts';
