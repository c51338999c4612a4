/** 0xEF result answers: what a control command (or an unsupported query) got from the panel. */
import { hex, protocolError } from './errors.ts';
import { message } from './types.ts';
import type { Message } from './types.ts';

export const RESULT_CMD = 0xef;

export const ResultCode = {
  ok: 0x00,
  userCodeNotFound: 0x01,
  noAccess: 0x02,
  userDoesNotExist: 0x03,
  userAlreadyExists: 0x04,
  wrongCodeOrCodeExists: 0x05,
  telephoneCodeExists: 0x06,
  changedCodeIsSame: 0x07,
  otherError: 0x08,
  cannotArmForceArmPossible: 0x11,
  cannotArm: 0x12,
  acceptedWillBeProcessed: 0xff,
} as const;

const TEXTS: Record<number, string | undefined> = {
  0x00: 'ok, command accepted',
  0x01: 'user code not found',
  0x02: 'no access',
  0x03: 'selected user does not exist',
  0x04: 'selected user already exists',
  0x05: 'wrong code or code already exists',
  0x06: 'telephone code already exists',
  0x07: 'changed code is the same',
  0x08: 'other error',
  0x11: 'cannot arm, force arm possible (zones violated or troubles)',
  0x12: 'cannot arm',
  0xff: 'command accepted, will be processed',
};

/** A human text for an 0xEF result code, e.g. 0x11 → "cannot arm, force arm possible (zones violated or troubles)". */
export function describeResult(code: number): string {
  const text = TEXTS[code];
  if (text !== undefined) return text;
  if (code >= 0x80 && code <= 0x8f) return `other error (${hex(code)})`;
  return `unknown result code ${hex(code)}`;
}

export interface Result {
  code: number;
  /** 0x00 (done) and 0xFF (accepted, will be processed) are successes; everything else is a refusal. */
  ok: boolean;
  text: string;
}

export function decodeResult(msg: Message): Result {
  if (msg.cmd !== RESULT_CMD) throw protocolError(`expected a result (0xEF) frame, got ${hex(msg.cmd)}`);
  if (msg.data.length !== 1) throw protocolError(`result answer has ${msg.data.length} data bytes, expected 1`);
  const code = msg.data[0]!;
  return { code, ok: code === ResultCode.ok || code === ResultCode.acceptedWillBeProcessed, text: describeResult(code) };
}

export function encodeResult(code: number): Message {
  return message(RESULT_CMD, Uint8Array.of(code & 0xff));
}
