import { randomUUID } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import {
  generateAuthenticationOptions, generateRegistrationOptions, verifyAuthenticationResponse, verifyRegistrationResponse,
  type AuthenticationResponseJSON, type AuthenticatorTransportFuture, type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { StamError, counter } from '../platform/index.ts';
import { createAuditStore } from './audit-store.ts';
import type { Authenticator } from './auth.ts';
import { TokenResponse, sessionIssuer } from './auth-routes.ts';
import { createAuthStore } from './auth-store.ts';
import { IdParams, Nullable, Timestamp, actorOf, errors, notFound, principalOf, type RouteDeps } from './http.ts';
import { createPasskeyStore } from './passkeys-store.ts';
import { verifyPassword } from './passwords.ts';
import { passkeyChallengeKey } from './redis-keys.ts';

const m = { passkeys: counter('stam_gateway_passkey_logins_total', 'passkey logins', ['outcome']) };

/** How long a ceremony's challenge is valid (the browser's own timeout is 60 s). */
const CHALLENGE_TTL_S = 120;

const Json = Type.Object({}, { additionalProperties: true });
const Credential = Type.Object({ id: Type.String({ minLength: 1, maxLength: 1024 }), rawId: Type.String({ maxLength: 1024 }), type: Type.Literal('public-key'), response: Json }, { additionalProperties: true });
const RegisterBody = Type.Object({ response: Credential, label: Type.String({ minLength: 1, maxLength: 100 }) }, { additionalProperties: false });
const LoginBody = Type.Object({ challenge_id: Type.String({ format: 'uuid' }), response: Credential }, { additionalProperties: false });
const PasskeyOut = Type.Object({ id: Type.Integer(), label: Type.String(), created_at: Timestamp, last_used_at: Nullable(Timestamp), transports: Type.Array(Type.String()) });
const PinBody = Type.Object({
  pin: Type.String({ pattern: '^[0-9]{4,8}$', maxLength: 8, description: '4 to 8 digits' }), password: Type.String({ minLength: 1, maxLength: 256, description: 'the account password, to set a PIN' }),
}, { additionalProperties: false });
const UnlockBody = Type.Object({ pin: Type.String({ pattern: '^[0-9]{4,8}$', maxLength: 8 }) }, { additionalProperties: false });

/**
 * Passkeys (WebAuthn, @simplewebauthn/server): a user registers the platform authenticator of their desk
 * or phone while logged in, and then logs in with it (discoverable credential: no username typed). The
 * quick unlock of a locked console checks the user's PIN (hashed, a wrong PIN counted; after
 * PIN_MAX_FAILURES in a row it is cleared and the password is needed).
 */
export function passkeyRoutes(app: FastifyInstance, deps: RouteDeps, auth: Authenticator): void {
  const { redis, settings: s } = deps;
  const store = createPasskeyStore(deps.pool);
  const users = createAuthStore(deps.pool);
  const audit = createAuditStore(deps.pool);
  const sessions = sessionIssuer(deps, users);

  const origins = (req: FastifyRequest): string[] => {
    if (s.webauthnOrigins.length > 0) return s.webauthnOrigins;
    const host = req.headers.host ?? '';
    return host.split(':')[0] === s.webauthnRpId ? [`http://${host}`, `https://${host}`] : [];
  };
  const keepChallenge = (id: string, challenge: string) => redis.set(passkeyChallengeKey(id), challenge, 'EX', CHALLENGE_TTL_S);
  /** Single use: read and deleted at once. */
  const takeChallenge = async (id: string): Promise<string> => {
    const c = await redis.getdel(passkeyChallengeKey(id));
    if (!c) throw new StamError('E_AUTH_INVALID', 'the passkey request expired or was used: start again');
    return c;
  };

  app.post('/api/passkeys/register/options', {
    config: { permission: 'self' },
    schema: { tags: ['passkeys'], summary: 'Options to register a passkey of this device (navigator.credentials.create)', security: [{ bearer: [] }], response: { 200: Json, ...errors() } },
  }, async (req) => {
    const p = principalOf(req);
    const user = await users.userById(p.id);
    const options = await generateRegistrationOptions({
      rpName: s.webauthnRpName, rpID: s.webauthnRpId, userName: p.username, userDisplayName: user?.display_name ?? p.username,
      userID: new TextEncoder().encode(`stam-user-${p.id}`), attestationType: 'none',
      excludeCredentials: (await store.credentialIds(p.id)).map((c) => ({ id: c.credential_id, transports: c.transports as AuthenticatorTransportFuture[] })),
      authenticatorSelection: { residentKey: 'required', userVerification: 'required', authenticatorAttachment: 'platform' },
    });
    await keepChallenge(`register:${p.id}`, options.challenge);
    return options;
  });

  app.post<{ Body: Static<typeof RegisterBody> }>('/api/passkeys', {
    config: { permission: 'self' },
    schema: { tags: ['passkeys'], summary: 'Register the passkey the browser created; audited', security: [{ bearer: [] }], body: RegisterBody, response: { 201: PasskeyOut, ...errors(409) } },
  }, async (req, res) => {
    const p = principalOf(req);
    const expectedChallenge = await takeChallenge(`register:${p.id}`);
    const v = await verifyRegistrationResponse({
      response: req.body.response as unknown as RegistrationResponseJSON, expectedChallenge, expectedOrigin: origins(req), expectedRPID: s.webauthnRpId,
      requireUserVerification: true,
    }).catch((err: Error) => { throw new StamError('E_VALIDATION', `passkey not accepted: ${err.message}`); });
    if (!v.verified) throw new StamError('E_VALIDATION', 'passkey not accepted');
    const c = v.registrationInfo.credential;
    const id = await store.add(p.id, { credentialId: c.id, publicKey: c.publicKey, counter: c.counter, transports: c.transports ?? [], label: req.body.label }, actorOf(req))
      .catch((err: Error & { code?: string }) => { throw err.code === '23505' ? new StamError('E_CONFLICT', 'this passkey is registered already') : err; });
    return res.status(201).send((await store.list(p.id)).find((k) => k.id === id));
  });

  app.get('/api/passkeys', {
    config: { permission: 'self' },
    schema: { tags: ['passkeys'], summary: 'My passkeys', security: [{ bearer: [] }], response: { 200: Type.Object({ items: Type.Array(PasskeyOut) }), ...errors() } },
  }, async (req) => ({ items: await store.list(principalOf(req).id) }));

  app.delete<{ Params: Static<typeof IdParams> }>('/api/passkeys/:id', {
    config: { permission: 'self' },
    schema: { tags: ['passkeys'], summary: 'Remove one of my passkeys; audited', security: [{ bearer: [] }], params: IdParams, response: { 204: Type.Null(), ...errors(404) } },
  }, async (req, res) => {
    if (!await store.remove(req.params.id, principalOf(req).id, actorOf(req))) throw notFound('passkey', req.params.id);
    return res.status(204).send();
  });

  app.post('/api/auth/passkey/options', {
    config: { public: true },
    schema: { tags: ['auth'], summary: 'Options to log in with a passkey (navigator.credentials.get), with the id of this attempt', response: { 200: Type.Object({ challenge_id: Type.String(), options: Json }) } },
  }, async () => {
    const options = await generateAuthenticationOptions({ rpID: s.webauthnRpId, userVerification: 'required' });
    const challengeId = randomUUID();
    await keepChallenge(`login:${challengeId}`, options.challenge);
    return { challenge_id: challengeId, options };
  });

  app.post<{ Body: Static<typeof LoginBody> }>('/api/auth/passkey', {
    config: { public: true },
    schema: { tags: ['auth'], summary: 'Log in with a passkey: the same tokens as a password login', body: LoginBody, response: { 200: TokenResponse, 400: Type.Ref('Error'), 401: Type.Ref('Error') } },
  }, async (req) => {
    const expectedChallenge = await takeChallenge(`login:${req.body.challenge_id}`);
    const response = req.body.response as unknown as AuthenticationResponseJSON;
    const cred = await store.byCredentialId(response.id);
    const user = cred ? await users.userById(cred.user_id) : undefined;
    const refuse = async (reason: string) => {
      m.passkeys.inc({ outcome: 'rejected' });
      await audit.record({ ...actorOf(req), action: 'auth.passkey_failed', userId: user?.id ?? null, username: user?.username ?? null, details: { reason } });
      return new StamError('E_AUTH_INVALID', 'passkey not accepted');
    };
    if (!cred || !user) throw await refuse('unknown credential');
    if (user.disabled) throw await refuse('disabled');
    const v = await verifyAuthenticationResponse({
      response, expectedChallenge, expectedOrigin: origins(req), expectedRPID: s.webauthnRpId, requireUserVerification: true,
      credential: { id: cred.credential_id, publicKey: new Uint8Array(cred.public_key), counter: cred.counter, transports: cred.transports as AuthenticatorTransportFuture[] },
    }).catch(() => ({ verified: false as const, authenticationInfo: undefined }));
    if (!v.verified) throw await refuse('signature');
    await store.used(cred.id, v.authenticationInfo.newCounter);
    auth.invalidate(user.id);
    const { family, body } = await sessions.login(user);
    await audit.record({ ...actorOf(req), action: 'auth.login', userId: user.id, username: user.username, details: { family, method: 'passkey', passkey: cred.id } });
    m.passkeys.inc({ outcome: 'ok' });
    return body;
  });

  app.put<{ Body: Static<typeof PinBody> }>('/api/me/pin', {
    config: { permission: 'self' },
    schema: { tags: ['auth'], summary: 'Set my quick-unlock PIN (needs my password); audited', security: [{ bearer: [] }], body: PinBody, response: { 204: Type.Null(), ...errors() } },
  }, async (req, res) => {
    const p = principalOf(req);
    const u = await users.userByName(p.username);
    if (!u || !await verifyPassword(req.body.password, u.password_hash)) throw new StamError('E_FORBIDDEN', 'wrong password: the PIN was not set');
    await store.setPin(p.id, req.body.pin, actorOf(req));
    return res.status(204).send();
  });

  app.delete('/api/me/pin', {
    config: { permission: 'self' },
    schema: { tags: ['auth'], summary: 'Remove my quick-unlock PIN; audited', security: [{ bearer: [] }], response: { 204: Type.Null(), ...errors() } },
  }, async (req, res) => {
    await store.setPin(principalOf(req).id, null, actorOf(req));
    return res.status(204).send();
  });

  app.post<{ Body: Static<typeof UnlockBody> }>('/api/auth/unlock', {
    config: { permission: 'self' },
    schema: { tags: ['auth'], summary: 'Unlock a locked console with my PIN', security: [{ bearer: [] }], body: UnlockBody, response: { 204: Type.Null(), ...errors(423) } },
  }, async (req, res) => {
    const p = principalOf(req);
    const out = await store.checkPin(p.id, req.body.pin, s.pinMaxFailures);
    await audit.record({ ...actorOf(req), action: out.ok ? 'auth.unlock' : 'auth.unlock_failed', details: out.ok ? {} : { reason: out.reason, failures: out.failures } });
    if (out.ok) return res.status(204).send();
    if (out.reason === 'wrong') throw new StamError('E_FORBIDDEN', `wrong PIN (${s.pinMaxFailures - out.failures} tries left)`, { details: { reason: 'wrong', tries_left: s.pinMaxFailures - out.failures } });
    throw new StamError('E_AUTH_LOCKED', out.reason === 'cleared' ? 'too many wrong PINs: the PIN was cleared, log in with the password' : 'no PIN set: log in with the password', { details: { reason: out.reason } });
  });
}
