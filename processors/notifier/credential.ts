import { readFileSync } from 'node:fs';
import { Type, type Static } from '@sinclair/typebox';
import { SignJWT, importPKCS8 } from 'jose';
import { StamError } from '../../platform/errors.ts';
import { parseValue } from '../../platform/validate.ts';

/**
 * The access token of a Firebase service account, from the account's own `token_uri`: an OAuth 2
 * JWT-bearer grant (RFC 7523) whose assertion is signed RS256 with the account's key. firebase-admin's
 * `cert()` does the same but always calls Google's host, whatever the file says; this one honours
 * `token_uri`, so the fake FCM can serve the token as well and the whole path — file, signature, token,
 * send — runs in tests.
 */
const ServiceAccountSchema = Type.Object({
  type: Type.Literal('service_account'),
  project_id: Type.String({ minLength: 1 }),
  private_key_id: Type.String({ minLength: 1 }),
  private_key: Type.String({ minLength: 1 }),
  client_email: Type.String({ minLength: 3 }),
  token_uri: Type.String({ pattern: '^https://', default: 'https://oauth2.googleapis.com/token' }),
});

export type ServiceAccount = Static<typeof ServiceAccountSchema>;

export const FCM_SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';

/** Reads and checks the service-account file; the error names the file and field, never a key. */
export function readServiceAccount(file: string): ServiceAccount {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new StamError('E_FCM_CREDENTIAL', `FCM_CREDENTIALS_FILE ${file} cannot be read: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    // JSON.parse's own message quotes the text, which holds the private key.
    throw new StamError('E_FCM_CREDENTIAL', `FCM_CREDENTIALS_FILE ${file} is not valid JSON`);
  }
  return parseValue(ServiceAccountSchema, data, { where: `FCM_CREDENTIALS_FILE ${file}`, code: 'E_FCM_CREDENTIAL' });
}

export interface AccessToken { access_token: string; expires_in: number }

export interface ServiceAccountCredential {
  /** What firebase-admin calls (its `Credential` interface); cached until five minutes before expiry. */
  getAccessToken(): Promise<AccessToken>;
  readonly projectId: string;
  readonly clientEmail: string;
}

/** OAuth error codes of a token endpoint that mean "this credential is refused", not "try again". */
const REFUSALS = new Set(['invalid_grant', 'invalid_client', 'unauthorized_client', 'invalid_scope', 'access_denied', 'unsupported_grant_type']);

export function serviceAccountCredential(sa: ServiceAccount, opts: { timeoutMs?: number; now?: () => number } = {}): ServiceAccountCredential {
  const now = opts.now ?? Date.now;
  let key: Promise<CryptoKey> | undefined;
  let cached: { token: string; expiresAt: number } | undefined;
  let inflight: Promise<AccessToken> | undefined;

  async function grant(): Promise<AccessToken> {
    key ??= importPKCS8(sa.private_key, 'RS256').catch((err: unknown) => {
      key = undefined;
      throw new StamError('E_FCM_CREDENTIAL', `service account ${sa.client_email}: private_key is not a PKCS#8 RSA key`, { cause: err });
    });
    const iat = Math.floor(now() / 1000);
    const assertion = await new SignJWT({ scope: FCM_SCOPE })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: sa.private_key_id })
      .setIssuer(sa.client_email).setAudience(sa.token_uri).setIssuedAt(iat).setExpirationTime(iat + 3600)
      .sign(await key);
    let res: Response;
    try {
      res = await fetch(sa.token_uri, {
        method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion }),
        signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new StamError('E_FCM_UNAVAILABLE', `token endpoint ${sa.token_uri} unreachable: ${cause?.code ?? cause?.message ?? (err as Error).message}`, { cause: err });
    }
    const body = await res.json().catch(() => ({})) as { access_token?: unknown; expires_in?: unknown; error?: unknown; error_description?: unknown };
    if (res.ok && typeof body.access_token === 'string' && typeof body.expires_in === 'number') {
      return { access_token: body.access_token, expires_in: body.expires_in };
    }
    const what = `token endpoint ${sa.token_uri} answered ${res.status}${typeof body.error === 'string' ? ` ${body.error}` : ''}${typeof body.error_description === 'string' ? `: ${body.error_description}` : ''}`;
    const refused = (res.status === 400 || res.status === 401 || res.status === 403) && (typeof body.error !== 'string' || REFUSALS.has(body.error));
    throw new StamError(refused ? 'E_FCM_CREDENTIAL' : 'E_FCM_UNAVAILABLE', `service account ${sa.client_email}: ${what}`);
  }

  return {
    projectId: sa.project_id,
    clientEmail: sa.client_email,
    async getAccessToken() {
      if (cached && cached.expiresAt - now() > 300_000) return { access_token: cached.token, expires_in: Math.floor((cached.expiresAt - now()) / 1000) };
      inflight ??= grant().then((t) => {
        cached = { token: t.access_token, expiresAt: now() + t.expires_in * 1000 };
        return t;
      }).finally(() => { inflight = undefined; });
      return inflight;
    },
  };
}
