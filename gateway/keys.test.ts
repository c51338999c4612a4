import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT, importPKCS8 } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyRing, rotateSigningKey } from './keys.ts';

const ISS = 'stam-test';
const AUD = 'stam-operators';
const dirs: string[] = [];
const tempDir = () => { const d = mkdtempSync(join(tmpdir(), 'stam-jwt-')); dirs.push(d); return d; };
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const claims = { sub: '7', role: 'OPERATOR', name: 'op7' };

describe('JWT key ring: what is refused', () => {
  let dir: string;
  let ring: KeyRing;
  let kid: string;
  let privatePem: string;

  beforeAll(async () => {
    dir = tempDir();
    ring = await KeyRing.open({ dir, issuer: ISS, audience: AUD, ttlS: 900, minReloadMs: 0 });
    kid = ring.activeKid!;
    privatePem = readFileSync(join(dir, `${kid}.pem`), 'utf8');
  });
  afterAll(() => ring.close());

  const signWith = async (edit: (j: SignJWT) => SignJWT, header: Record<string, unknown> = { alg: 'RS256', kid }) => {
    const key = await importPKCS8(privatePem, 'RS256');
    return edit(new SignJWT({ role: claims.role, name: claims.name }).setProtectedHeader(header as { alg: string }).setSubject(claims.sub)).sign(key);
  };
  const refused = (token: string) => expect(ring.verify(token)).rejects.toMatchObject({ code: 'E_AUTH_TOKEN' });

  it('accepts a token it signed, with sub, role and name', async () => {
    const { token } = await ring.sign(claims);
    await expect(ring.verify(token)).resolves.toMatchObject({ ...claims, iss: ISS, aud: AUD });
  });

  it('refuses alg "none"', async () => {
    const now = Math.floor(Date.now() / 1000);
    await refused(`${b64({ alg: 'none', kid, typ: 'JWT' })}.${b64({ ...claims, iss: ISS, aud: AUD, iat: now, exp: now + 600 })}.`);
  });

  it('refuses HS256 signed with the public key as the HMAC secret (algorithm confusion)', async () => {
    const publicPem = createPublicKey(privatePem).export({ type: 'spki', format: 'pem' });
    const token = await new SignJWT({ role: 'ADMIN', name: 'mallory' }).setProtectedHeader({ alg: 'HS256', kid })
      .setSubject('1').setIssuer(ISS).setAudience(AUD).setIssuedAt().setExpirationTime('10m')
      .sign(new TextEncoder().encode(publicPem.toString()));
    await refused(token);
  });

  it('refuses an expired token', async () => {
    await refused(await signWith((j) => j.setIssuer(ISS).setAudience(AUD).setIssuedAt(Math.floor(Date.now() / 1000) - 3600).setExpirationTime(Math.floor(Date.now() / 1000) - 60)));
  });

  it('refuses a wrong issuer and a wrong audience', async () => {
    await refused(await signWith((j) => j.setIssuer('someone-else').setAudience(AUD).setExpirationTime('10m')));
    await refused(await signWith((j) => j.setIssuer(ISS).setAudience('another-app').setExpirationTime('10m')));
  });

  it('refuses a token without exp', async () => {
    await refused(await signWith((j) => j.setIssuer(ISS).setAudience(AUD)));
  });

  it('refuses an unknown kid, even after re-reading the key directory', async () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const token = await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'not-ours' })
      .setSubject('7').setIssuer(ISS).setAudience(AUD).setExpirationTime('10m').sign(await importPKCS8(other, 'RS256'));
    await refused(token);
    // Our kid on a token signed by someone else's key is refused too.
    const forged = await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid })
      .setSubject('7').setIssuer(ISS).setAudience(AUD).setExpirationTime('10m').sign(await importPKCS8(other, 'RS256'));
    await refused(forged);
  });

  it('refuses a token without a kid', async () => {
    await refused(await signWith((j) => j.setIssuer(ISS).setAudience(AUD).setExpirationTime('10m'), { alg: 'RS256' }));
  });

  it('refuses a tampered payload (role raised to ADMIN, signature kept)', async () => {
    const { token } = await ring.sign(claims);
    const [h, p, s] = token.split('.') as [string, string, string];
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
    await refused(`${h}.${b64({ ...payload, role: 'ADMIN' })}.${s}`);
    await expect(ring.verify(`${h}.${p}.${s}`)).resolves.toMatchObject({ role: 'OPERATOR' });
  });

  it('a verified token stays subject to its expiry (the verification cache re-checks exp)', async () => {
    const token = await signWith((j) => j.setIssuer(ISS).setAudience(AUD).setExpirationTime(Math.floor(Date.now() / 1000) + 1));
    await expect(ring.verify(token)).resolves.toMatchObject({ sub: '7' });
    await new Promise((r) => setTimeout(r, 1100 + (1000 - (Date.now() % 1000))));
    await refused(token);
  });

  it('refuses garbage', async () => {
    await refused('not.a.jwt');
    await refused('');
  });
});

describe('JWT key rotation without logging anyone out', () => {
  it('a token signed before the rotation stays valid, new tokens use the new kid, JWKS publishes both', async () => {
    const dir = tempDir();
    const ring = await KeyRing.open({ dir, issuer: ISS, audience: AUD, ttlS: 900, minReloadMs: 0 });
    const before = await ring.sign(claims);
    const oldKid = ring.activeKid;
    const { kid } = rotateSigningKey(dir);
    await ring.reload();
    expect(ring.activeKid).toBe(kid);
    expect(ring.publicJwks().keys.map((k) => k.kid)).toEqual([kid, oldKid]);
    expect(ring.publicJwks().keys.every((k) => !('d' in k) && !('p' in k))).toBe(true);
    await expect(ring.verify(before.token)).resolves.toMatchObject({ sub: '7' });
    const after = await ring.sign(claims);
    expect(JSON.parse(Buffer.from(after.token.split('.')[0]!, 'base64url').toString())).toMatchObject({ alg: 'RS256', kid });
    ring.close();
  });

  it('another instance that has not reloaded yet accepts a token with the new kid (reload on unknown kid)', async () => {
    const dir = tempDir();
    const a = await KeyRing.open({ dir, issuer: ISS, audience: AUD, ttlS: 900, minReloadMs: 0 });
    const b = await KeyRing.open({ dir, issuer: ISS, audience: AUD, ttlS: 900, minReloadMs: 0 });
    rotateSigningKey(dir);
    await a.reload();
    const token = (await a.sign(claims)).token;
    await expect(b.verify(token)).resolves.toMatchObject({ sub: '7' });
    a.close(); b.close();
  });

  it('a second rotation retires the oldest key: its tokens are refused and its file removed', async () => {
    const dir = tempDir();
    const ring = await KeyRing.open({ dir, issuer: ISS, audience: AUD, ttlS: 900, minReloadMs: 0 });
    const first = await ring.sign(claims);
    rotateSigningKey(dir);
    await new Promise((r) => setTimeout(r, 10));
    rotateSigningKey(dir);
    await expect(ring.verify(first.token)).resolves.toMatchObject({ sub: '7' }); // still accepted until this instance reloads…
    await ring.reload();
    expect(readdirSync(dir)).toHaveLength(2);
    await expect(ring.verify(first.token)).rejects.toMatchObject({ code: 'E_AUTH_TOKEN' }); // …and refused once it has
    ring.close();
  });
});
