import { StamError } from '../platform/index.ts';
import { codecFor, topicName } from '../schemas/index.ts';
import { fromPanelLink, fromSatelEvent, fromSmsEvent, type NormalizedEvent } from '../domain/index.ts';

export type EventDecoder = (value: Buffer) => NormalizedEvent;

/**
 * The event topics (names with the prefix) and how each one's values become the events the alarm decision
 * reads: the processor, replay and its what-if decode them the same way.
 */
export function eventDecoders(topicPrefix: string, opts: { sms: boolean }): Map<string, EventDecoder> {
  const decoders = new Map<string, EventDecoder>([
    [topicName('satel.events.v1', topicPrefix), (v) => fromSatelEvent(codecFor('SatelEvent').decode(v))],
    [topicName('panel.link.v1', topicPrefix), (v) => fromPanelLink(codecFor('PanelLink').decode(v))],
  ]);
  if (opts.sms) decoders.set(topicName('sms.events.v1', topicPrefix), (v) => fromSmsEvent(codecFor('SmsEvent').decode(v)));
  return decoders;
}

/** Decodes one message of an event topic; throws a catalogue error for a topic it has no decoder for. */
export function decodeEvent(decoders: Map<string, EventDecoder>, topic: string, value: Buffer): NormalizedEvent {
  const decoder = decoders.get(topic);
  if (!decoder) throw new StamError('E_EVENT_INVALID', `no decoder for topic ${topic}`);
  return decoder(value);
}
