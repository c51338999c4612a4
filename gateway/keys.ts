import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  SignJWT, createLocalJWKSet, exportJWK, importPKCS8, jwtVerify, type JWTPayload, type CryptoKey,
} from 'jose';
import { StamError } from '../platform/index.ts';

export interface Claims extends JWTPayload { sub: string; role: string; name: string }

interface SigningKey { kid: string; key: CryptoKey; publicJwk: Record<string, unknown>; createdMs: number }

/**
 * RS256 key ring from PEM files in a directory (`<kid>.pem`, PKCS#8). The newest key signs; the newest
 * two are published and accepted, so a new key can be rolled in without logging anyone out. Tokens must
 * carry a `kid`; only RS256 is accepted.
 */
export class KeyRing {
  private keys: SigningKey[] = [];
  private jwks: ReturnType<typeof createLocalJWKSet> = createLocalJWKSet({ keys: [] });

  private constructor(private readonly dir: string, private readonly issuer: string, private readonly audience: string, private readonly ttlS: number) {}

  static async open(opts: { dir: string; issuer: string; audience: string; ttlS: number }): Promise<KeyRing> {
    const ring = new KeyRing(opts.dir, opts.issuer, opts.audience, opts.ttlS);
    mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
    if (ring.files().length === 0) ring.writeNewKey();
    await ring.reload();
    return ring;
  }

  private files(): string[] {
    return readdirSync(this.dir).filter((f) => f.endsWith('.pem'));
  }

  /** Adds a new signing key (rotation); callers then `reload()` on every instance. */
  writeNewKey(): string {
    const kid = `${new Date().toISOString().slice(0, 10)}-${randomUUID().slice(0, 8)}`;
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeFileSync(join(this.dir, `${kid}.pem`), privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    return kid;
  }

  async reload(): Promise<void> {
    const loaded: SigningKey[] = [];
    for (const f of this.files()) {
      const path = join(this.dir, f);
      const key = await importPKCS8(readFileSync(path, 'utf8'), 'RS256', { extractable: true });
      const jwk = await exportJWK(key);
      const kid = f.replace(/\.pem$/, '');
      const publicJwk = { kty: jwk.kty, n: jwk.n, e: jwk.e, kid, alg: 'RS256', use: 'sig' };
      loaded.push({ kid, key, publicJwk, createdMs: statSync(path).mtimeMs });
    }
    loaded.sort((a, b) => b.createdMs - a.createdMs || b.kid.localeCompare(a.kid));
    this.keys = loaded.slice(0, 2);
    this.jwks = createLocalJWKSet(this.publicJwks());
  }

  publicJwks(): { keys: Record<string, unknown>[] } {
    return { keys: this.keys.map((k) => k.publicJwk) };
  }

  async sign(claims: { sub: string; role: string; name: string }): Promise<{ token: string; expiresIn: number }> {
    const active = this.keys[0];
    if (!active) throw new Error('no signing key');
    const token = await new SignJWT({ role: claims.role, name: claims.name })
      .setProtectedHeader({ alg: 'RS256', kid: active.kid, typ: 'JWT' })
      .setSubject(claims.sub).setIssuer(this.issuer).setAudience(this.audience)
      .setIssuedAt().setExpirationTime(`${this.ttlS}s`).setJti(randomUUID())
      .sign(active.key);
    return { token, expiresIn: this.ttlS };
  }

  async verify(token: string): Promise<Claims> {
    try {
      const { payload, protectedHeader } = await jwtVerify(token, this.jwks, { algorithms: ['RS256'], issuer: this.issuer, audience: this.audience });
      if (!protectedHeader.kid) throw new Error('token has no kid');
      if (typeof payload.sub !== 'string' || typeof payload.role !== 'string') throw new Error('token lacks sub/role');
      return payload as Claims;
    } catch (err) {
      throw new StamError('E_AUTH_TOKEN', 'invalid or expired token', { cause: err });
    }
  }
}
