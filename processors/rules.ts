import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { validateRules, type Rule } from '../domain/index.ts';
import { inTransaction, type Pool } from '../platform/index.ts';

export const RULES_FILE = fileURLToPath(new URL('../config/alarm-rules.yaml', import.meta.url));

export function readRulesFile(path = RULES_FILE): Rule[] {
  try {
    return validateRules(parse(readFileSync(path, 'utf8')));
  } catch (err) {
    throw new Error(`${path}: ${(err as Error).message}`, { cause: err });
  }
}

/** Fills alarm_rules from the committed file when the table is empty; engineers' edits are kept. */
export async function seedRulesIfEmpty(pool: Pool, path = RULES_FILE): Promise<number> {
  const rules = readRulesFile(path);
  return inTransaction(pool, async (client) => {
    await client.query('LOCK TABLE alarm_rules IN EXCLUSIVE MODE');
    const { rows } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM alarm_rules');
    if ((rows[0]?.n ?? 0) > 0) return 0;
    await client.query(
      `INSERT INTO alarm_rules (position, source, kind, log_class, log_code_from, log_code_to, restore, effect, category, severity, title)
       SELECT * FROM unnest($1::int[], $2::text[], $3::text[], $4::int[], $5::int[], $6::int[], $7::boolean[], $8::text[], $9::text[], $10::text[], $11::text[])`,
      [rules.map((_, i) => (i + 1) * 10), rules.map((r) => r.source), rules.map((r) => r.kind), rules.map((r) => r.log_class ?? null),
        rules.map((r) => r.log_codes?.[0] ?? null), rules.map((r) => r.log_codes?.[1] ?? null),
        rules.map((r) => r.restore ?? null), rules.map((r) => r.effect), rules.map((r) => r.category), rules.map((r) => r.severity), rules.map((r) => r.title)],
    );
    return rules.length;
  });
}

export async function loadRules(pool: Pool): Promise<Rule[]> {
  const { rows } = await pool.query<Record<string, unknown>>(
    `SELECT source, kind, log_class, log_code_from, log_code_to, restore, effect, category, severity, title
       FROM alarm_rules WHERE enabled ORDER BY position`);
  return validateRules(rows.map(({ log_code_from: from, log_code_to: to, ...r }) => ({ ...r, log_codes: from == null ? null : [from, to] })));
}
