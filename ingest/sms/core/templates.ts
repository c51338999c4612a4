/**
 * Vendor SMS formats as data (config/sms-templates.yaml): each template is a regular expression over the
 * normalised text (text.ts) with named groups — sensor (a name), serial, value, unit, threshold, direction,
 * time — and the SmsEvent kind it yields. A template carries examples: each must be recognised by that
 * template (and by no template tried before it) with the fields it expects, checked when the file is read,
 * so adding a vendor's format is a change of the file with its fixture, refused at start when they disagree.
 */
import { Type, type Static } from '@sinclair/typebox';
import { parse as parseYaml } from 'yaml';
import { StamError } from '../../../platform/errors.ts';
import { parseValue } from '../../../platform/validate.ts';
import type { SmsEventKind } from '../../../schemas/index.ts';
import { normalizeText, parseLocalTime, toDirection, toNumber, toUnit } from './text.ts';

/** The kinds a template may yield (UNCLASSIFIED is what no template recognised; MODEM_* come from the driver). */
export const TEMPLATE_KINDS = [
  'TEMPERATURE_ALARM', 'TEMPERATURE_RESTORE', 'LOW_BATTERY', 'BATTERY_RESTORED', 'CONNECTION_LOST', 'CONNECTION_RESTORED',
] as const satisfies readonly SmsEventKind[];
export type TemplateKind = (typeof TEMPLATE_KINDS)[number];

const FIELDS = ['sensor', 'serial', 'value', 'unit', 'threshold', 'direction', 'time'] as const;
const literals = <T extends string>(values: readonly T[]) => Type.Union(values.map((v) => Type.Literal(v)));
const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Optional(Type.Union([t, Type.Null()]));

const ExampleSchema = Type.Object({
  text: Type.String({ minLength: 1 }),
  /** The sender the example comes from (default: the template's first sender, else any). */
  from: Type.Optional(Type.String({ minLength: 1 })),
  expect: Type.Object({
    sensor: Nullable(Type.String()), serial: Nullable(Type.String()),
    value: Type.Optional(Type.Union([Type.Number(), Type.Null()])), threshold: Type.Optional(Type.Union([Type.Number(), Type.Null()])),
    unit: Nullable(Type.String()), direction: Type.Optional(Type.Union([literals(['HIGH', 'LOW'] as const), Type.Null()])),
    time: Nullable(Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?(Z|[+-]\\d{2}:\\d{2})$', description: 'ISO-8601 instant, e.g. 2025-06-15T10:30:00Z' })),
  }, { additionalProperties: false }),
}, { additionalProperties: false });

const TemplateSchema = Type.Object({
  name: Type.String({ pattern: '^[a-z0-9][a-z0-9._-]{0,63}$' }),
  vendor: literals(['efento', 'blulog', 'other'] as const),
  kind: literals(TEMPLATE_KINDS),
  /** Sender numbers or names this template is tried for first (others try it after their own). */
  senders: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
  pattern: Type.String({ minLength: 1 }),
  examples: Type.Array(ExampleSchema, { minItems: 1 }),
}, { additionalProperties: false });

const FileSchema = Type.Object({ templates: Type.Array(TemplateSchema) }, { additionalProperties: false });

export type TemplateSpec = Static<typeof TemplateSchema>;

export interface Template extends Omit<TemplateSpec, 'pattern'> { pattern: RegExp; source: string }

/** What a template read out of a text. */
export interface Match {
  template: Template;
  kind: TemplateKind;
  sensor: string | null;
  serial: string | null;
  value: number | null;
  threshold: number | null;
  unit: string | null;
  direction: 'HIGH' | 'LOW' | null;
  /** The device time written in the text (epoch ms), when there is one. */
  timeMs: number | null;
}

function compile(spec: TemplateSpec, where: string): Template {
  let pattern: RegExp;
  try {
    pattern = new RegExp(spec.pattern, 'u');
  } catch (err) {
    throw new StamError('E_CONFIG', `${where}: pattern: ${(err as Error).message}`);
  }
  const groups = [...spec.pattern.matchAll(/\(\?<([a-zA-Z_]\w*)>/g)].map((m) => m[1]!);
  const unknown = groups.filter((g) => !(FIELDS as readonly string[]).includes(g));
  if (unknown.length > 0) throw new StamError('E_CONFIG', `${where}: pattern: unknown field(s) ${unknown.join(', ')} (fields: ${FIELDS.join(', ')})`);
  return { ...spec, pattern, source: spec.pattern };
}

/** Applies one template to a normalised text. */
export function matchTemplate(t: Template, normalized: string, timeZone: string): Match | undefined {
  const m = t.pattern.exec(normalized);
  if (!m) return undefined;
  const g = m.groups ?? {};
  const text = (k: string) => (g[k] === undefined || g[k] === '' ? null : g[k].trim());
  return {
    template: t, kind: t.kind, sensor: text('sensor'), serial: text('serial'), value: toNumber(g.value), threshold: toNumber(g.threshold),
    unit: toUnit(g.unit), direction: toDirection(g.direction), timeMs: parseLocalTime(g.time, timeZone),
  };
}

/**
 * The templates in the order they are tried for one SMS: those its sensors name, then those listing its
 * sender, then those of its sensors' vendors, then all others (file order within each).
 */
export function templatesFor(all: readonly Template[], sender: string, sensors: readonly { template: string | null; vendor: string }[], sameSender: (a: string, b: string) => boolean): Template[] {
  const rank = (t: Template) => (sensors.some((s) => s.template === t.name) ? 0
    : t.senders.some((s) => sameSender(s, sender)) ? 1
      : sensors.some((s) => s.vendor === t.vendor) ? 2 : 3);
  return all.map((t, i) => ({ t, i, r: rank(t) })).sort((a, b) => a.r - b.r || a.i - b.i).map((x) => x.t);
}

/** The first template (in `templatesFor` order) that recognises the text. */
export function recognise(ordered: readonly Template[], text: string, timeZone: string): Match | undefined {
  const normalized = normalizeText(text);
  for (const t of ordered) {
    const m = matchTemplate(t, normalized, timeZone);
    if (m) return m;
  }
  return undefined;
}

function checkExamples(templates: readonly Template[], timeZone: string, sameSender: (a: string, b: string) => boolean): void {
  for (const t of templates) {
    t.examples.forEach((ex, i) => {
      const where = `template ${t.name}, example ${i + 1}`;
      const from = ex.from ?? t.senders[0] ?? '';
      const m = recognise(templatesFor(templates, from, [], sameSender), ex.text, timeZone);
      if (!m) throw new StamError('E_CONFIG', `${where}: not recognised by any template (normalised: "${normalizeText(ex.text)}")`);
      if (m.template !== t) throw new StamError('E_CONFIG', `${where}: recognised by template ${m.template.name}, which is tried first`);
      const got: Record<string, unknown> = {
        sensor: m.sensor, serial: m.serial, value: m.value, threshold: m.threshold, unit: m.unit, direction: m.direction,
        time: m.timeMs === null ? null : new Date(m.timeMs).toISOString(),
      };
      for (const [k, want] of Object.entries(ex.expect)) {
        const w = k === 'time' && typeof want === 'string' ? new Date(want).toISOString() : want;
        if (got[k] !== w) throw new StamError('E_CONFIG', `${where}: ${k} is ${JSON.stringify(got[k])}, the example expects ${JSON.stringify(w)}`);
      }
    });
  }
}

/** Reads and checks a templates file (YAML text); throws E_CONFIG naming the file, template and field at fault. */
export function parseTemplates(yamlText: string, opts: { where: string; timeZone: string; sameSender: (a: string, b: string) => boolean }): Template[] {
  let doc: unknown;
  try {
    doc = parseYaml(yamlText);
  } catch (err) {
    throw new StamError('E_CONFIG', `${opts.where}: ${(err as Error).message}`);
  }
  const file = parseValue(FileSchema, doc, { where: opts.where, code: 'E_CONFIG' });
  const names = new Set<string>();
  const templates = file.templates.map((spec, i) => {
    const where = `${opts.where}: template ${i + 1} (${spec.name})`;
    if (names.has(spec.name)) throw new StamError('E_CONFIG', `${where}: the name is used twice`);
    names.add(spec.name);
    return compile(spec, where);
  });
  try {
    checkExamples(templates, opts.timeZone, opts.sameSender);
  } catch (err) {
    throw new StamError('E_CONFIG', `${opts.where}: ${(err as Error).message}`, { cause: err });
  }
  return templates;
}
