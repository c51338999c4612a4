import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, redactSecrets } from './logger.ts';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({ write(chunk: Buffer, _enc, done) { lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>); done(); } });
  return { lines, log: createLogger('test', 'info', stream) };
}

describe('log redaction', () => {
  it('censors secrets in camelCase and snake_case, at any depth, and request bodies whole', () => {
    const { lines, log } = capture();
    log.info({
      refresh_token: 'r-1', accessToken: 'a-1', user_code: '1234', integration_key: 'k', password: 'p', fcm_token: 'f',
      panel: { id: 7, secrets: { integrationKey: 'deep', nested: [{ userCode: '9999' }] } },
      body: { username: 'ann', password: 'hunter2' }, headers: { authorization: 'Bearer x', cookie: 'c' },
      kept: { panelId: 7, status: 'ok' },
    }, 'a line');
    const l = lines[0]!;
    for (const k of ['refresh_token', 'accessToken', 'user_code', 'integration_key', 'password', 'fcm_token', 'body']) expect(l[k]).toBe('[redacted]');
    expect(l.panel).toEqual({ id: 7, secrets: '[redacted]' });
    expect(l.headers).toEqual({ authorization: '[redacted]', cookie: '[redacted]' });
    expect(l.kept).toEqual({ panelId: 7, status: 'ok' });
    expect(JSON.stringify(l)).not.toMatch(/hunter2|deep|9999|Bearer x/);
  });

  it('censors secrets in child bindings too, and leaves lines without secrets as they are', () => {
    const { lines, log } = capture();
    log.child({ session: { ticket: 't-1', user: 'ann' } }).info({ alarmId: 5, count: 2 }, 'claimed');
    expect(lines[0]).toMatchObject({ session: { ticket: '[redacted]', user: 'ann' }, alarmId: 5, count: 2, msg: 'claimed' });
    const plain = { a: 1, b: { c: [1, 2] } };
    expect(redactSecrets(plain)).toBe(plain);
  });
});
