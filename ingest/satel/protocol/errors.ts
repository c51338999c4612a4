// The codec's errors come from the one catalogue in platform/errors.ts. This is the only file of the
// module that imports it. It imports the leaf file, not platform/index.ts: the index also loads pg, kafkajs,
// ioredis and prom-client (~1 s), which a pure codec (and the panel simulator built on it) must not pull in.

import { StamError } from '../../../platform/errors.ts';

export { StamError };

/** A frame that does not decode as the answer (client side) or request (panel side) it claims to be. */
export function protocolError(message: string, details?: Record<string, unknown>): StamError {
  return new StamError('E_SATEL_PROTOCOL', message, details === undefined ? undefined : { details });
}

/** Arguments that cannot be encoded (user code with letters, zone 300 in a 16-byte bitmap …). */
export function requestError(message: string, details?: Record<string, unknown>): StamError {
  return new StamError('E_SATEL_REQUEST', message, details === undefined ? undefined : { details });
}

export function hex(n: number, width = 2): string {
  return `0x${n.toString(16).toUpperCase().padStart(width, '0')}`;
}
