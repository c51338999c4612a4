import { Type, type TSchema } from '@sinclair/typebox';
import { StamError } from '../platform/errors.ts';
import { parseValue } from '../platform/validate.ts';
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

const literals = <T extends string>(values: readonly T[]) => Type.Union(values.map((v) => Type.Literal(v)));
const nullable = <S extends TSchema>(s: S, description: string) => Type.Optional(Type.Union([s, Type.Null()], { description }));
const EventCode = Type.Integer({ minimum: 0, maximum: 1023 });

/** One rule as the YAML file and the alarm_rules table hold it. */
const RuleSchema = Type.Object({
  source: literals(['satel', 'link', 'sms'] as const),
  kind: Type.String({ minLength: 1 }),
  log_class: nullable(Type.Integer({ minimum: 0, maximum: 7 }), 'a log class 0..7, or null'),
  log_codes: nullable(Type.Tuple([EventCode, EventCode]), 'a list [from, to] of event codes 0..1023, or null'),
  restore: nullable(Type.Boolean(), 'true, false or null'),
  effect: literals(['open', 'restore', 'state'] as const),
  category: Type.String({ minLength: 1 }),
  severity: literals(SEVERITIES),
  title: Type.String({ minLength: 1 }),
});

/** Validates rules read from the YAML file or the table; throws E_CONFIG naming the rule and field at fault. */
export function validateRules(data: unknown): Rule[] {
  if (!Array.isArray(data)) throw new StamError('E_CONFIG', 'alarm rules must be a list');
  return data.map((raw: unknown, i) => {
    const where = `rule ${i + 1}`;
    const r = parseValue(RuleSchema, raw, { where, code: 'E_CONFIG' });
    const codes = r.log_codes ?? null;
    if (codes !== null && codes[0] > codes[1]) throw new StamError('E_CONFIG', `${where}: log_codes must be [from, to] with from <= to`);
    return {
      source: r.source, kind: r.kind, log_class: r.log_class ?? null, log_codes: codes, restore: r.restore ?? null,
      effect: r.effect, category: r.category, severity: r.severity, title: r.title,
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
