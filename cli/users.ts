import { Command, Option } from 'commander';
import { ROLES, hashPassword } from '../gateway/index.ts';
import { writeAudit } from '../platform/index.ts';
import { roleContext } from './context.ts';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

async function withDb(fn: (ctx: ReturnType<typeof roleContext>) => Promise<string>): Promise<void> {
  const ctx = roleContext('user');
  try {
    process.stdout.write(`${await fn(ctx)}\n`);
  } catch (err) {
    process.stderr.write(`stam user: ${(err as Error).message}\n`);
    process.exitCode = 1;
  } finally {
    await ctx.close();
  }
}

async function passwordFromStdin(flag: boolean): Promise<string> {
  if (!flag) throw new Error('give the password on standard input with --password-stdin (never as an argument)');
  const pw = await readStdin();
  if (pw.length < 10) throw new Error('the password must have at least 10 characters');
  return pw;
}

/** `stam user add|passwd|disable|assign`: bootstrap and manage accounts from the command line. */
export function userCommand(): Command {
  const user = new Command('user').description('manage operator accounts');
  user.command('add <username>')
    .addOption(new Option('--role <role>', 'role').choices(ROLES).makeOptionMandatory())
    .option('--display-name <name>', 'shown in the console and audit log')
    .option('--password-stdin', 'read the password from standard input')
    .action((username: string, o: { role: string; displayName?: string; passwordStdin?: boolean }) => withDb(async (ctx) => {
      const hash = await hashPassword(await passwordFromStdin(Boolean(o.passwordStdin)));
      const { rows } = await ctx.pool().query<{ id: number }>(
        'INSERT INTO users (username, display_name, password_hash, role) VALUES ($1, $2, $3, $4) RETURNING id',
        [username, o.displayName ?? username, hash, o.role],
      ).catch((err: Error & { code?: string }) => { throw err.code === '23505' ? new Error(`user ${username} exists`) : err; });
      await writeAudit(ctx.pool(), { username: 'cli', action: 'user.add', targetType: 'user', targetId: rows[0]!.id, details: { username, role: o.role } });
      return `user ${username} (${o.role}) created`;
    }));
  user.command('passwd <username>').option('--password-stdin', 'read the password from standard input')
    .action((username: string, o: { passwordStdin?: boolean }) => withDb(async (ctx) => {
      const hash = await hashPassword(await passwordFromStdin(Boolean(o.passwordStdin)));
      const r = await ctx.pool().query('UPDATE users SET password_hash = $2, failed_logins = 0, locked_until = NULL, updated_at = now() WHERE username = $1', [username, hash]);
      if (r.rowCount === 0) throw new Error(`no user ${username}`);
      await writeAudit(ctx.pool(), { username: 'cli', action: 'user.passwd', targetType: 'user', targetId: username });
      return `password of ${username} changed`;
    }));
  user.command('disable <username>').action((username: string) => withDb(async (ctx) => {
    const r = await ctx.pool().query('UPDATE users SET disabled = true, updated_at = now() WHERE username = $1', [username]);
    if (r.rowCount === 0) throw new Error(`no user ${username}`);
    await ctx.pool().query(`UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = (SELECT id FROM users WHERE username = $1) AND revoked_at IS NULL`, [username]);
    await writeAudit(ctx.pool(), { username: 'cli', action: 'user.disable', targetType: 'user', targetId: username });
    return `${username} disabled`;
  }));
  user.command('assign <username> <objectId>').description('let a TECHNICIAN or FIELD_WORKER see an object').action((username: string, objectId: string) => withDb(async (ctx) => {
    const r = await ctx.pool().query(
      'INSERT INTO user_objects (user_id, object_id) SELECT u.id, o.id FROM users u, objects o WHERE u.username = $1 AND o.id = $2 ON CONFLICT DO NOTHING',
      [username, Number(objectId)]);
    await writeAudit(ctx.pool(), { username: 'cli', action: 'user.assign', targetType: 'user', targetId: username, details: { objectId } });
    return r.rowCount ? `${username} assigned to object ${objectId}` : `nothing changed (unknown user or object, or already assigned)`;
  }));
  user.command('duty <username>').description('put a user on duty for some hours (supervisors on duty get push notifications), or end the shift')
    .option('--hours <h>', 'length of the shift in hours', '12').option('--off', 'end the shift now')
    .action((username: string, o: { hours: string; off?: boolean }) => withDb(async (ctx) => {
      const hours = Number(o.hours);
      if (!o.off && !(hours > 0 && hours <= 48)) throw new Error('--hours must be between 0 and 48');
      const r = await ctx.pool().query<{ until: Date | null }>(
        `UPDATE users SET on_duty_until = CASE WHEN $2 THEN NULL ELSE now() + make_interval(secs => $3 * 3600) END, updated_at = now()
          WHERE username = $1 RETURNING on_duty_until AS until`, [username, Boolean(o.off), hours]);
      if (r.rowCount === 0) throw new Error(`no user ${username}`);
      const until = r.rows[0]!.until;
      await writeAudit(ctx.pool(), { username: 'cli', action: 'user.duty', targetType: 'user', targetId: username, details: { until: until?.toISOString() ?? null } });
      return until ? `${username} on duty until ${until.toISOString()}` : `${username} off duty`;
    }));
  return user;
}
