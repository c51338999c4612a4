import { Type, type Static } from '@sinclair/typebox';
import { StamError } from '../../platform/errors.ts';
import { parseValue } from '../../platform/validate.ts';

/**
 * A push job as the outbox relay publishes it (processors/outbox-publish.ts): one per CRITICAL alarm
 * opening, on `system.notifications` / `notification.push.alarm`, message id `alarm-<id>-v<version>`.
 * Fields beyond these are ignored, so the relay may add some without breaking a running notifier.
 */
export const PushJobSchema = Type.Object({
  alarm_id: Type.Integer({ minimum: 1 }),
  version: Type.Integer({ minimum: 1 }),
  object_id: Type.Integer({ minimum: 1 }),
  severity: Type.String({ minLength: 1 }),
  title: Type.String(),
  category: Type.String(),
  first_event_at: Type.Number({ minimum: 0 }),
});

export type PushJob = Static<typeof PushJobSchema>;

/** The job in a message body; a body that is not one throws E_PUSH_JOB_INVALID naming the field. */
export function parsePushJob(body: Buffer): PushJob {
  let data: unknown;
  try {
    data = JSON.parse(body.toString('utf8'));
  } catch {
    throw new StamError('E_PUSH_JOB_INVALID', `push job is not JSON (${body.length} bytes)`);
  }
  return parseValue(PushJobSchema, data, { where: 'push job', code: 'E_PUSH_JOB_INVALID' });
}
