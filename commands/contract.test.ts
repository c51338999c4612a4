import { describe, expect, it } from 'vitest';
import { isStamError } from '../platform/errors.ts';
import {
  COMMAND_HEADERS, commandResult, deadlineOf, encodeCommand, normalizeParams, paramsProblem, parseCommand, routingKeyFor, type CommandMessage,
} from './contract.ts';
import { deadLetterReason } from './dead-letters.ts';

const cmd = (over: Partial<CommandMessage> = {}): CommandMessage => ({
  v: 1, command_id: '3f1c2a9e-5b6d-4c7e-8f90-a1b2c3d4e5f6', panel_id: 7, action: 'arm', params: { mode: 0, partitions: [1, 2] },
  requested_by: { id: 3, username: 'sup1' }, created_at: 1_000_000, expires_at: 1_030_000, trace: null, ...over,
});

describe('command parameters', () => {
  it('partitions for arm/disarm/clear_alarm, outputs for outputs_*, mode only when arming', () => {
    expect(paramsProblem('arm', { partitions: [1] })).toBeNull();
    expect(paramsProblem('force_arm', { mode: 3, partitions: [32] })).toBeNull();
    expect(paramsProblem('disarm', {})).toMatch(/disarm needs partitions/);
    expect(paramsProblem('disarm', { partitions: [1, 1] })).toMatch(/distinct/);
    expect(paramsProblem('arm', { partitions: [33] })).toMatch(/1–32/);
    expect(paramsProblem('disarm', { partitions: [1], mode: 1 })).toBe('disarm takes no mode');
    expect(paramsProblem('arm', { partitions: [1], mode: 4 as 0 })).toBe('mode must be 0–3');
    expect(paramsProblem('outputs_on', { outputs: [256] })).toBeNull();
    expect(paramsProblem('outputs_off', { outputs: [1], partitions: [1] })).toBe('outputs_off takes no partitions');
    expect(paramsProblem('clear_alarm', { partitions: [2], outputs: [1] })).toBe('clear_alarm takes no outputs');
  });

  it('stores only what the action uses, sorted, with arm mode 0 by default', () => {
    expect(normalizeParams('arm', { partitions: [3, 1] })).toEqual({ mode: 0, partitions: [1, 3] });
    expect(normalizeParams('disarm', { partitions: [2, 1] })).toEqual({ partitions: [1, 2] });
    expect(normalizeParams('outputs_on', { outputs: [9, 4] })).toEqual({ outputs: [4, 9] });
  });
});

describe('command message', () => {
  it('is published to panel.{id}, persistent, with the command id, the remaining lifetime as expiration and the deadline header', () => {
    const e = encodeCommand(cmd(), 1_010_000);
    expect(e.routingKey).toBe('panel.7');
    expect(routingKeyFor(12)).toBe('panel.12');
    expect(e.options).toMatchObject({
      persistent: true, messageId: cmd().command_id, contentType: 'application/json', expiration: '20000',
      headers: { [COMMAND_HEADERS.commandId]: cmd().command_id, [COMMAND_HEADERS.deadline]: 1_030_000, [COMMAND_HEADERS.panelId]: 7, [COMMAND_HEADERS.forwards]: 0 },
    });
    expect(encodeCommand(cmd(), 2_000_000).options.expiration).toBe('1'); // already late: the broker drops it at once
    expect(parseCommand(e.content)).toEqual(cmd());
  });

  it('refuses malformed messages with E_COMMAND_INVALID, naming the problem but not echoing the body', () => {
    const bad = (o: unknown) => { try { parseCommand(Buffer.from(typeof o === 'string' ? o : JSON.stringify(o))); } catch (err) { return err; } return undefined; };
    for (const [body, why] of [
      ['{not json', /not JSON/], [{ ...cmd(), v: 2 }, /unknown version 2/], [{ ...cmd(), command_id: 'x' }, /not a UUID/],
      [{ ...cmd(), action: 'self_destruct' }, /unknown action/], [{ ...cmd(), params: { partitions: [] } }, /needs partitions/],
      [{ ...cmd(), requested_by: undefined }, /requested_by/], [{ ...cmd(), expires_at: 'soon' }, /expires_at/],
    ] as const) {
      const err = bad(body);
      expect(isStamError(err, 'E_COMMAND_INVALID')).toBe(true);
      expect((err as Error).message).toMatch(why);
    }
    expect((bad({ ...cmd(), panel_id: 'DROP TABLE' }) as Error).message).not.toContain('DROP');
  });

  it('the deadline is the earlier of the header and the body: a header can shorten a command\'s life, never extend it', () => {
    expect(deadlineOf(cmd(), { [COMMAND_HEADERS.deadline]: 1_020_000 })).toBe(1_020_000);
    expect(deadlineOf(cmd(), { [COMMAND_HEADERS.deadline]: 9_999_999 })).toBe(1_030_000);
    expect(deadlineOf(cmd(), undefined)).toBe(1_030_000);
    expect(deadlineOf(cmd(), { [COMMAND_HEADERS.deadline]: 'garbage' })).toBe(1_030_000);
  });

  it('a result carries the command\'s identity and trace', () => {
    const trace = { id: 't1', origin_ms: 5 };
    expect(commandResult(cmd({ trace }), 'REJECTED', 'wrong user code', 1, 42)).toEqual({
      command_id: cmd().command_id, panel_id: 7, action: 'arm', status: 'REJECTED', reason: 'wrong user code', panel_result_code: 1, finished_at: 42, trace,
    });
  });
});

describe('dead-letter reasons', () => {
  const now = 1_040_000;
  it('no x-death, or expired in commands.unroutable: nothing was bound to the panel (no driver holds it)', () => {
    expect(deadLetterReason(cmd(), {}, now)).toEqual({ why: 'unroutable', text: 'undeliverable: no driver holds panel 7 (nothing executed)' });
    expect(deadLetterReason(cmd(), { 'x-death': [{ reason: 'expired', queue: 'commands.unroutable' }] }, now).why).toBe('unroutable');
  });
  it('expired in a queue, or refused by a driver after its deadline: expired, never executed', () => {
    expect(deadLetterReason(cmd(), { 'x-death': [{ reason: 'expired', queue: 'commands.driver.a' }] }, now).text).toMatch(/^expired in the queue before a driver took it/);
    expect(deadLetterReason(cmd(), { 'x-death': [{ reason: 'rejected' }] }, now)).toMatchObject({ why: 'expired' });
  });
  it('refused before its deadline: handed back too often, nobody holds the panel', () => {
    expect(deadLetterReason(cmd(), { 'x-death': [{ reason: 'rejected' }], [COMMAND_HEADERS.forwards]: 5 }, 1_000_500)).toEqual({
      why: 'refused', text: 'undeliverable: handed back 5 times, no driver holds panel 7 (nothing executed)',
    });
  });
});
