// The core's errors come from the one catalogue in platform/errors.ts (the leaf file, not platform/index.ts,
// which loads pg, kafkajs and ioredis that a pure core and the modem simulator must not pull in).

import { StamError } from '../../../platform/errors.ts';

export { StamError };

/** A PDU that cannot be an SMS-DELIVER as received (truncated, bad lengths, wrong message type). */
export function pduError(message: string, details?: Record<string, unknown>): StamError {
  return new StamError('E_SMS_PDU', message, details === undefined ? undefined : { details });
}
