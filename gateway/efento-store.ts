import { createHash, timingSafeEqual } from 'node:crypto';
import { createSensorDirectory, efentoAlertEvent, type EfentoAlert } from '../ingest/sms/core/index.ts';
import { StamError, type Pool, type Producer } from '../platform/index.ts';
import { codecFor, topicName, type SmsEvent } from '../schemas/index.ts';

/**
 * The Efento Cloud webhook's way into the SMS path: the shared secret checked (constant time, never logged),
 * the alert turned into an SmsEvent by the pure core with the sensors of the table, and produced to
 * sms.events.v1 with acks -1 — answered 201 only once the broker has it, so Efento retries anything else.
 */
export interface EfentoIntake {
  /** Throws E_SMS_WEBHOOK (401) for a missing or wrong secret, E_UNAVAILABLE (503) when none is configured. */
  authorize(secret: string | undefined): void;
  accept(alert: EfentoAlert, rawBody: string): Promise<SmsEvent>;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

export function createEfentoIntake(o: { pool: Pool; producer: Producer; topicPrefix: string; secret: string | undefined }): EfentoIntake {
  const topic = topicName('sms.events.v1', o.topicPrefix);
  const codec = codecFor('SmsEvent');
  const expected = o.secret === undefined ? undefined : digest(o.secret);
  return {
    authorize(secret) {
      if (!expected) throw new StamError('E_UNAVAILABLE', 'the Efento webhook is not configured (SMS_EFENTO_WEBHOOK_SECRET)');
      if (secret === undefined || !timingSafeEqual(digest(secret), expected)) throw new StamError('E_SMS_WEBHOOK', 'missing or wrong X-Webhook-Secret');
    },
    async accept(alert, rawBody) {
      const { rows } = await o.pool.query<{ sensor_ref: string; sender: string; name: string; vendor: string; template: string | null; aliases: string[] }>(
        `SELECT sensor_ref, sender, name, vendor, template, aliases FROM sensors WHERE vendor = 'efento' ORDER BY id`);
      const directory = createSensorDirectory(rows.map((r) => ({ sensorRef: r.sensor_ref, sender: r.sender, name: r.name, vendor: r.vendor, template: r.template, aliases: r.aliases })));
      const event = efentoAlertEvent(alert, rawBody, directory, Date.now());
      try {
        await o.producer.send({ topic, acks: -1, messages: [{ key: event.sensor_id, value: codec.encode(event) }] });
      } catch (err) {
        throw new StamError('E_UNAVAILABLE', `the alert could not be handed to the broker: ${(err as Error).message}`, { cause: err });
      }
      return event;
    },
  };
}
