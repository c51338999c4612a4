/** What the control API and tests may ask the modem simulator to deliver. */
import { Type, type Static } from '@sinclair/typebox';

export const DeliverSchema = Type.Object({
  from: Type.String({ minLength: 1, maxLength: 20, description: '+48600100200, or an alphanumeric sender (Efento)' }),
  text: Type.String({ minLength: 1, maxLength: 10_000 }),
  encoding: Type.Union([Type.Literal('auto'), Type.Literal('gsm7'), Type.Literal('ucs2')], { default: 'auto' }),
  /** Concatenation reference size for long messages: 8 (IEI 0x00) or 16 bits (IEI 0x08). */
  referenceBits: Type.Union([Type.Literal(8), Type.Literal(16)], { default: 8 }),
  /** Order the parts are delivered in. */
  order: Type.Union([Type.Literal('in-order'), Type.Literal('reverse'), Type.Literal('shuffle')], { default: 'in-order' }),
  /** Deliver the same message (same PDUs, same time stamp) this many times: a network re-delivery. */
  copies: Type.Integer({ minimum: 1, maximum: 10, default: 1 }),
  /** Parts (1-based) the network never delivers. */
  drop: Type.Array(Type.Integer({ minimum: 1 }), { default: [] }),
  /** Service centre time stamp, epoch ms (default now). */
  at: Type.Optional(Type.Integer({ minimum: 0 })),
}, { additionalProperties: false });
export type DeliverRequest = Static<typeof DeliverSchema>;
