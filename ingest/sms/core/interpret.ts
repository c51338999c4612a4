/**
 * From a received SMS to the SmsEvent the driver produces: the template that recognises it (or
 * UNCLASSIFIED, with the raw text, never dropped), the sensor it is about, and its identity. The
 * dedup_key comes from the sender, the service centre time stamp and the content, so the same message read
 * twice — after a crash between produce and delete, or listed again — is one event; event_id follows from it.
 */
import { createHash } from 'node:crypto';
import type { SmsEvent, SmsEventKind } from '../../../schemas/index.ts';
import { MODEM_SENSOR, sameSender, type SensorDirectory } from './directory.ts';
import { recognise, templatesFor, type Template } from './templates.ts';

export interface ReceivedSms {
  sender: string;
  /** Exactly as received (the joined parts of a long SMS). */
  text: string;
  /** Service centre time stamp (of the first part), epoch ms. */
  smscTimeMs: number;
  partial: boolean;
  /** When the driver read it. */
  observedAtMs: number;
}

export interface InterpretContext { templates: readonly Template[]; directory: SensorDirectory; timeZone: string }

const sha = (...parts: (string | number | boolean)[]) => createHash('sha256').update(parts.map(String).join('\u0000')).digest('hex');

/** A UUID (version 5 layout) derived from the dedup key: a message read twice is the same event id. */
export function eventIdOf(dedupKey: string): string {
  const h = sha('event-id', dedupKey);
  const variant = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** `sms:<hash of sender, SMSC time stamp, text, partial>` — the same physical message, however often it is read. */
export function smsDedupKey(sms: Pick<ReceivedSms, 'sender' | 'smscTimeMs' | 'text' | 'partial'>): string {
  return `sms:${sha(sms.sender, sms.smscTimeMs, sms.text, sms.partial).slice(0, 40)}`;
}

function base(kind: SmsEventKind, sensorId: string, sender: string, rawText: string, observedAtMs: number, dedupKey: string): SmsEvent {
  return {
    event_id: eventIdOf(dedupKey), sensor_id: sensorId, sender, kind, value: null, unit: null, threshold: null, raw_text: rawText,
    sensor_time: null, observed_at: observedAtMs, dedup_key: dedupKey, trace: null, direction: null, template: null, smsc_time: null, partial: false,
  };
}

export function interpretSms(sms: ReceivedSms, ctx: InterpretContext): SmsEvent {
  const dedupKey = smsDedupKey(sms);
  const mine = ctx.directory.ofSender(sms.sender);
  const match = recognise(templatesFor(ctx.templates, sms.sender, mine, sameSender), sms.text, ctx.timeZone);
  const common = { sensor_time: sms.smscTimeMs, smsc_time: sms.smscTimeMs, partial: sms.partial };
  if (!match) {
    const r = ctx.directory.resolve({ sender: sms.sender });
    return { ...base('UNCLASSIFIED', r.sensorId, sms.sender, sms.text, sms.observedAtMs, dedupKey), ...common };
  }
  const r = ctx.directory.resolve({ sender: sms.sender, serial: match.serial, name: match.sensor, vendor: match.template.vendor });
  return {
    ...base(match.kind, r.sensorId, sms.sender, sms.text, sms.observedAtMs, dedupKey), ...common,
    value: match.value, unit: match.unit, threshold: match.threshold, direction: match.direction, template: match.template.name,
    sensor_time: match.timeMs ?? sms.smscTimeMs,
  };
}

/**
 * A stored message that does not decode is still an event an operator reads: UNCLASSIFIED from an unknown
 * sender, its raw text the PDU as the modem gave it.
 */
export function undecodableSms(pduHex: string, reason: string, observedAtMs: number): SmsEvent {
  const dedupKey = `sms:pdu:${sha(pduHex).slice(0, 40)}`;
  return { ...base('UNCLASSIFIED', 'unknown:undecodable', 'unknown', pduHex, observedAtMs, dedupKey), template: `undecodable: ${reason}`.slice(0, 200) };
}

/**
 * The modem's own supervision: MODEM_DOWN once it has been unreachable past the supervision time, and
 * MODEM_RESTORED when it answers again — one pair per outage (both keyed by its start).
 */
export function modemEvent(kind: 'MODEM_DOWN' | 'MODEM_RESTORED', downSinceMs: number, reason: string, observedAtMs: number): SmsEvent {
  const dedupKey = `sms:modem:${kind === 'MODEM_DOWN' ? 'down' : 'restored'}:${downSinceMs}`;
  return base(kind, MODEM_SENSOR, 'modem', reason, observedAtMs, dedupKey);
}
