import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { skipReason } from './attempt.ts';
import { readServiceAccount } from './credential.ts';
import { parsePushJob } from './job.ts';
import { alarmMessage, type AlarmContext } from './message.ts';
import { decide } from './outcome.ts';

const err = (code: string, message = '') => ({ success: false, error: { code, message } });

describe('what an FCM answer means', () => {
  it('an accepted send keeps FCM\'s message name', () => {
    expect(decide({ success: true, messageId: 'projects/p/messages/1' })).toEqual({ kind: 'accepted', name: 'projects/p/messages/1' });
  });
  it('an unregistered token, or one FCM calls not a valid registration token, is removed', () => {
    expect(decide(err('messaging/registration-token-not-registered')).kind).toBe('remove_token');
    expect(decide(err('messaging/invalid-argument', 'The registration token is not a valid FCM registration token')).kind).toBe('remove_token');
  });
  it('INVALID_ARGUMENT about the payload is a rejected message, never a reason to delete a token', () => {
    expect(decide(err('messaging/invalid-argument', "Invalid value at 'message.android.ttl': Illegal duration format")).kind).toBe('rejected');
    expect(decide(err('messaging/payload-size-limit-exceeded')).kind).toBe('rejected');
  });
  it('a token of another project is quarantined, not deleted', () => {
    expect(decide(err('messaging/mismatched-credential', 'SenderId mismatch')).kind).toBe('quarantine');
    // …but a service account without the right for the project is a credential problem, not every token's.
    expect(decide(err('messaging/mismatched-credential', "Permission 'cloudmessaging.messages.create' denied on resource '//cloudresourcemanager.googleapis.com/projects/p'")).kind).toBe('credential');
  });
  it('quota is retried and marked as quota (at least a minute); unavailable, internal, network and unknown answers are retried', () => {
    expect(decide(err('messaging/message-rate-exceeded'))).toMatchObject({ kind: 'retry', quota: true });
    for (const c of ['messaging/server-unavailable', 'messaging/internal-error', 'app/network-timeout', 'app/network-error', 'messaging/something-new']) {
      expect(decide(err(c))).toMatchObject({ kind: 'retry', quota: false });
    }
  });
  it('authentication errors are a credential problem that stops sending', () => {
    expect(decide(err('messaging/third-party-auth-error')).kind).toBe('credential');
    expect(decide(err('messaging/authentication-error')).kind).toBe('credential');
  });
});

const ctx: AlarmContext = {
  alarmId: 42, status: 'NEW', severity: 'CRITICAL', title: 'Fire alarm (panel log), zone 4', category: 'fire', zone: 4, objectId: 7,
  objectCode: 'DEMO-001', objectName: 'Apteka', objectAddress: 'ul. Przykładowa 1, Poznań', serviceMode: false, testMode: false, openedMs: 1_700_000_000_000, firstEventMs: 1_700_000_000_000,
};

describe('the push message of an alarm', () => {
  it('carries the alarm as title, the site as body, one tag and collapse key per alarm, high priority, string data', () => {
    const msg = alarmMessage(ctx, ['t1', 't2'], 3600);
    expect(msg.tokens).toEqual(['t1', 't2']);
    expect(msg.notification).toEqual({ title: 'Fire alarm (panel log), zone 4', body: 'DEMO-001 Apteka, ul. Przykładowa 1, Poznań' });
    expect(msg.android).toMatchObject({ priority: 'high', collapseKey: 'alarm-42', ttl: 3_600_000, notification: { tag: 'alarm-42' } });
    expect(msg.apns?.headers).toMatchObject({ 'apns-collapse-id': 'alarm-42', 'apns-priority': '10' });
    expect(Object.values(msg.data ?? {}).every((v) => typeof v === 'string')).toBe(true);
    expect(msg.data).toMatchObject({ alarm_id: '42', object_id: '7', severity: 'CRITICAL', zone: '4' });
  });
});

describe('what is never pushed, decided at send time', () => {
  it('only CRITICAL alarms of objects in neither service nor test mode, not yet resolved', () => {
    expect(skipReason(ctx)).toBeUndefined();
    expect(skipReason(undefined)).toBe('unknown_alarm');
    expect(skipReason({ ...ctx, severity: 'WARNING' })).toBe('not_critical');
    expect(skipReason({ ...ctx, serviceMode: true })).toBe('service_mode');
    expect(skipReason({ ...ctx, testMode: true })).toBe('test_mode');
    expect(skipReason({ ...ctx, status: 'CLOSED' })).toBe('alarm_closed');
    expect(skipReason({ ...ctx, status: 'CLAIMED' })).toBeUndefined();
  });
});

describe('push jobs and service-account files', () => {
  it('a job must name a numeric alarm and object; the error says which field', () => {
    const job = { alarm_id: 1, version: 1, object_id: 2, severity: 'CRITICAL', title: 't', category: 'fire', first_event_at: 1, extra: true };
    expect(parsePushJob(Buffer.from(JSON.stringify(job)))).toMatchObject({ alarm_id: 1, object_id: 2 });
    expect(() => parsePushJob(Buffer.from('{"alarm_id":"x"}'))).toThrow(/push job: alarm_id/);
    expect(() => parsePushJob(Buffer.from('not json'))).toThrow(/not JSON/);
  });

  it('a bad service-account file names the file and field and never quotes the key', () => {
    const dir = mkdtempSync(join(tmpdir(), 'stam-sa-'));
    const secret = '-----BEGIN PRIVATE KEY-----\nSECRETSECRET\n-----END PRIVATE KEY-----\n';
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, `{"type":"service_account","private_key":"${secret.replace(/\n/g, '\\n')}"`);
    expect(() => readServiceAccount(broken)).toThrow(/broken\.json is not valid JSON/);
    try { readServiceAccount(broken); } catch (e) { expect((e as Error).message).not.toContain('SECRET'); }
    const partial = join(dir, 'partial.json');
    writeFileSync(partial, JSON.stringify({ type: 'service_account', project_id: 'p', private_key: secret, client_email: 'a@b' }));
    expect(() => readServiceAccount(partial)).toThrow(/partial\.json: private_key_id: Required/);
    try { readServiceAccount(partial); } catch (e) { expect((e as Error).message).not.toContain('SECRET'); }
    expect(() => readServiceAccount(join(dir, 'missing.json'))).toThrow(/cannot be read: ENOENT/);
    const ok = join(dir, 'ok.json');
    writeFileSync(ok, JSON.stringify({ type: 'service_account', project_id: 'p', private_key_id: 'k', private_key: secret, client_email: 'a@b' }));
    expect(readServiceAccount(ok).token_uri).toBe('https://oauth2.googleapis.com/token');
  });
});
