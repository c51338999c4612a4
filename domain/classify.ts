import type { Classification, ClassifiableEvent, Severity } from './types.ts';
import { SEVERITIES } from './types.ts';

/**
 * Classification is data: each rule maps an event kind (and for panel log records, a class, a range of
 * event codes and the restore flag) to an effect, category and severity. The rules live in the alarm_rules table, seeded from
 * config/alarm-rules.yaml. The first matching rule wins; an event no rule knows opens a WARNING so that
 * nothing unknown is hidden from operators.
 */
export interface Rule {
  source: ClassifiableEvent['source'];
  kind: string;
  log_class?: number | null;
  /** Inclusive range of panel log event codes (`[110, 117]`); a single code is `[121, 121]`. */
  log_codes?: readonly [number, number] | null;
  restore?: boolean | null;
  effect: Classification['effect'];
  category: string;
  severity: Severity;
  title: string; // `{n}` → object number, `{sensor}` → sensor id
}

const EFFECTS = ['open', 'restore', 'state'] as const;
const SOURCES = ['satel', 'link', 'sms'] as const;

/** Validates rules read from the YAML file or the table; throws naming the rule and field at fault. */
export function validateRules(data: unknown): Rule[] {
  if (!Array.isArray(data)) throw new Error('alarm rules must be a list');
  return data.map((raw: unknown, i) => {
    const r = raw as Record<string, unknown>;
    const where = `rule ${i + 1}`;
    if (r === null || typeof r !== 'object') throw new Error(`${where}: must be a mapping`);
    if (!SOURCES.includes(r.source as never)) throw new Error(`${where}: source must be one of ${SOURCES.join(', ')}`);
    if (typeof r.kind !== 'string' || r.kind === '') throw new Error(`${where}: kind is required`);
    if (!EFFECTS.includes(r.effect as never)) throw new Error(`${where}: effect must be one of ${EFFECTS.join(', ')}`);
    if (!SEVERITIES.includes(r.severity as never)) throw new Error(`${where}: severity must be one of ${SEVERITIES.join(', ')}`);
    if (typeof r.category !== 'string' || r.category === '') throw new Error(`${where}: category is required`);
    if (typeof r.title !== 'string' || r.title === '') throw new Error(`${where}: title is required`);
    const logClass = r.log_class ?? null;
    if (logClass !== null && !(Number.isInteger(logClass) && (logClass as number) >= 0 && (logClass as number) <= 7)) throw new Error(`${where}: log_class must be 0..7`);
    const restore = r.restore ?? null;
    if (restore !== null && typeof restore !== 'boolean') throw new Error(`${where}: restore must be true or false`);
    const codes = r.log_codes ?? null;
    const isCode = (n: unknown): n is number => Number.isInteger(n) && (n as number) >= 0 && (n as number) <= 1023;
    if (codes !== null && !(Array.isArray(codes) && codes.length === 2 && isCode(codes[0]) && isCode(codes[1]) && codes[0] <= codes[1])) {
      throw new Error(`${where}: log_codes must be [from, to] with 0 <= from <= to <= 1023`);
    }
    return {
      source: r.source as Rule['source'], kind: r.kind, log_class: logClass as number | null,
      log_codes: codes as [number, number] | null, restore: restore,
      effect: r.effect as Rule['effect'], category: r.category, severity: r.severity as Severity, title: r.title,
    };
  });
}

function matches(rule: Rule, e: ClassifiableEvent): boolean {
  if (rule.source !== e.source || rule.kind !== e.kind) return false;
  if (rule.log_class != null && rule.log_class !== e.logClass) return false;
  if (rule.log_codes != null && !(e.logCode != null && e.logCode >= rule.log_codes[0] && e.logCode <= rule.log_codes[1])) return false;
  if (rule.restore != null && rule.restore !== (e.logRestore ?? false)) return false;
  return true;
}

export function classify(e: ClassifiableEvent, rules: readonly Rule[]): Classification {
  const rule = rules.find((r) => matches(r, e));
  if (!rule) {
    return { effect: 'open', category: 'unknown', severity: 'WARNING', title: `Unrecognised ${e.source} event ${e.kind} (${e.objectNumber})` };
  }
  const title = rule.title.replace('{n}', String(e.objectNumber)).replace('{sensor}', e.sensorRef ?? '').trim();
  return { effect: rule.effect, category: rule.category, severity: rule.severity, title };
}
