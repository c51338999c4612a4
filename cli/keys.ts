import { Command } from 'commander';
import { addKeyToFile, configureSecrets, generateSecretKey, writeAudit } from '../platform/index.ts';
import { KeyRing, rotateSigningKey, rotateStoredSecrets } from '../gateway/index.ts';
import { configOrExit, roleContext } from './context.ts';

async function run(name: string, fn: () => Promise<string>): Promise<void> {
  try {
    process.stdout.write(`${await fn()}\n`);
  } catch (err) {
    process.stderr.write(`stam ${name}: ${(err as Error).message}\n`);
    process.exitCode = 1;
  }
}

/**
 * `stam keys rotate|list`: the JWT signing key ring in JWT_KEY_DIR. A rotation adds a key that signs from
 * the next reload on (every gateway re-reads the directory periodically and on a token with an unknown
 * kid) and keeps the previous key published and accepted, so nobody is logged out.
 */
export function keysCommand(): Command {
  const keys = new Command('keys').description('JWT signing keys (RS256, JWT_KEY_DIR)');
  keys.command('rotate').description('add a new signing key; the previous one stays valid, older ones are removed').action(() => run('keys rotate', async () => {
    const ctx = roleContext('keys');
    try {
      const { kid, removed } = rotateSigningKey(ctx.config.JWT_KEY_DIR);
      await writeAudit(ctx.pool(), { username: 'cli', action: 'keys.rotate', targetType: 'jwt-key', targetId: kid, details: { removed } })
        .catch((err: Error) => process.stderr.write(`stam keys rotate: not audited (${err.message})\n`));
      return `new signing key ${kid}${removed.length ? `; removed ${removed.join(', ')}` : ''}; gateways pick it up within JWT_KEY_RELOAD_S (${ctx.config.JWT_KEY_RELOAD_S} s)`;
    } finally {
      await ctx.close();
    }
  }));
  keys.command('list').description('the active and the previous key ids').action(() => run('keys list', async () => {
    const c = configOrExit();
    const ring = await KeyRing.open({ dir: c.JWT_KEY_DIR, issuer: c.JWT_ISSUER, audience: c.JWT_AUDIENCE, ttlS: c.JWT_TTL_S });
    ring.close();
    return ring.publicJwks().keys.map((k, i) => `${String(k.kid)}${i === 0 ? ' (active)' : ' (previous)'}`).join('\n');
  }));
  return keys;
}

/**
 * `stam secrets generate-key|rotate`: the AES-256-GCM ring for secrets at rest. Production: generate a key,
 * put it first in SECRETS_KEYS (keep the old one after it), restart the roles, run `rotate`, then drop the
 * old key. Development: `rotate --new-key` does all of it on the key file.
 */
export function secretsCommand(): Command {
  const secrets = new Command('secrets').description('encryption keys of secrets at rest (SECRETS_KEYS)');
  secrets.command('generate-key').description('print a new ring entry kid=base64 (for SECRETS_KEYS)').action(() => run('secrets generate-key', () => Promise.resolve(generateSecretKey())));
  secrets.command('rotate')
    .description('re-encrypt every stored secret with the active key (after a new key was put first in the ring)')
    .option('--new-key', 'development: first put a new key in front of SECRETS_KEY_FILE')
    .action((o: { newKey?: boolean }) => run('secrets rotate', async () => {
      const ctx = roleContext('secrets');
      try {
        const c = ctx.config;
        if (o.newKey) {
          if (c.SECRETS_KEYS) throw new Error('--new-key edits the development key file; with SECRETS_KEYS, put a key from `stam secrets generate-key` first in it instead');
          addKeyToFile(c.SECRETS_KEY_FILE);
        }
        const box = configureSecrets({ keys: c.SECRETS_KEYS, keyFile: c.SECRETS_KEY_FILE, generate: c.NODE_ENV !== 'production' });
        const moved = await rotateStoredSecrets(ctx.pool(), box);
        await writeAudit(ctx.pool(), { username: 'cli', action: 'secrets.rotate', targetType: 'secrets-key', targetId: box.activeKid, details: moved });
        return `active key ${box.activeKid}; re-encrypted ${Object.entries(moved).map(([k, n]) => `${k}: ${n}`).join(', ')}`;
      } finally {
        await ctx.close();
      }
    }));
  return secrets;
}
