import { readFileSync, mkdtempSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT, importPKCS8 } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFakeFcm, type FakeFcm } from './index.ts';

interface FcmReply {
  name?: string; access_token?: string; expires_in?: number; token_type?: string;
  error?: { status: string; details: { errorCode?: string; '@type': string }[] };
}

/** The fake FCM over a real TLS connection that trusts only its private CA. */
describe('fake FCM (HTTP v1 over HTTPS)', () => {
  let fcm: FakeFcm;
  let ca: string;

  const call = (path: string, body: string, headers: Record<string, string> = {}) => new Promise<{ status: number; headers: Record<string, unknown>; json: FcmReply }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: fcm.port, path, method: 'POST', ca, headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => { text += c.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, json: JSON.parse(text) as FcmReply }));
    });
    req.on('error', reject);
    req.end(body);
  });

  async function assertion(sa: { private_key: string; client_email: string; token_uri: string }): Promise<string> {
    const key = await importPKCS8(sa.private_key, 'RS256');
    return new SignJWT({ scope: 'https://www.googleapis.com/auth/firebase.messaging' }).setProtectedHeader({ alg: 'RS256' })
      .setIssuer(sa.client_email).setAudience(sa.token_uri).setIssuedAt().setExpirationTime('1h').sign(key);
  }
  const grant = async (sa: { private_key: string; client_email: string; token_uri: string }) => call('/token',
    new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: await assertion(sa) }).toString(),
    { 'content-type': 'application/x-www-form-urlencoded' });
  const sendTo = (token: string, bearer: string, message: Record<string, unknown> = {}) =>
    call(`/v1/projects/${fcm.projectId}/messages:send`, JSON.stringify({ message: { token, notification: { title: 'T', body: 'B' }, android: { notification: { tag: 'alarm-1' } }, ...message } }), { authorization: `Bearer ${bearer}` });

  beforeAll(async () => {
    fcm = createFakeFcm({ dir: mkdtempSync(join(tmpdir(), 'stam-fake-fcm-')), port: 0 });
    await fcm.start();
    ca = readFileSync(fcm.caFile, 'utf8');
  });
  afterAll(() => fcm?.stop());

  it('grants a token for an assertion signed by the service account it made, refuses one signed by another key', async () => {
    const sa = JSON.parse(readFileSync(fcm.credentialsFile, 'utf8')) as { private_key: string; client_email: string; token_uri: string };
    expect(sa.token_uri).toBe(`https://127.0.0.1:${fcm.port}/token`);
    const ok = await grant(sa);
    expect(ok.status).toBe(200);
    expect(ok.json).toMatchObject({ token_type: 'Bearer', expires_in: 3599 });
    const stranger = JSON.parse(fcm.untrustedServiceAccount().json) as typeof sa;
    expect((await grant(stranger)).json).toEqual({ error: 'invalid_grant', error_description: 'Invalid JWT Signature.' });
  });

  it('answers messages:send per token as told, in FCM\'s error shapes, and shows each tag once on the phone', async () => {
    const sa = JSON.parse(readFileSync(fcm.credentialsFile, 'utf8')) as { private_key: string; client_email: string; token_uri: string };
    const bearer = String((await grant(sa)).json.access_token);
    expect((await sendTo('tok-1', 'not-a-token')).status).toBe(401);
    const first = await sendTo('tok-1', bearer);
    expect(first.status).toBe(200);
    expect(String(first.json.name)).toMatch(new RegExp(`^projects/${fcm.projectId}/messages/`));
    await sendTo('tok-1', bearer); // same tag again: replaces, does not add
    expect(fcm.phone('tok-1')).toEqual([expect.objectContaining({ tag: 'alarm-1', title: 'T', deliveries: 2 })]);

    fcm.behave('gone', { answer: 'unregistered' });
    expect((await sendTo('gone', bearer)).json.error!.details[0]!.errorCode).toBe('UNREGISTERED');
    fcm.behave('busy', { answer: 'quota', retryAfterS: 7, times: 1 });
    const quota = await sendTo('busy', bearer);
    expect([quota.status, quota.headers['retry-after'], quota.json.error!.details[0]!.errorCode]).toEqual([429, '7', 'QUOTA_EXCEEDED']);
    expect((await sendTo('busy', bearer)).status).toBe(200); // `times` used up
    fcm.behave('slow', { answer: 'unavailable', delayMs: 150 });
    const t0 = performance.now();
    expect((await sendTo('slow', bearer)).status).toBe(503);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(140);
    const bad = await sendTo('tok-2', bearer, { android: { ttl: 'an hour' } });
    expect([bad.status, bad.json.error!.details[0]!['@type']]).toEqual([400, 'type.googleapis.com/google.rpc.BadRequest']);
    fcm.revokeAccessTokens();
    expect((await sendTo('tok-1', bearer)).json.error!.status).toBe('UNAUTHENTICATED');
    expect(fcm.received.map((r) => r.token)).toEqual(['tok-1', 'tok-1', 'busy']);
  });
});
