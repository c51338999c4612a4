import type { Type } from 'avsc';
import { describe, expect, it } from 'vitest';
import { SAMPLES } from './fixtures/samples.ts';
import { loadSchema } from './load.ts';
import {
  ALARM_SEVERITIES, ALARM_STATUSES, COMMAND_STATUSES, PANEL_LINK_STATUSES, SATEL_EVENT_KINDS, SMS_EVENT_KINDS, TOPIC_SCHEMA_NAMES,
} from './types.ts';
import type { AppliedEvent, PanelLogRecord, SchemaTypes, Trace } from './types.ts';

// Compile-time half of the twin check: these literals must list exactly the fields (and the nullable
// fields) of each TypeScript interface, or tsc fails. The tests below compare them with the .avsc files.
interface Records extends SchemaTypes { PanelLogRecord: PanelLogRecord; Trace: Trace; AppliedEvent: AppliedEvent }
type NullableKeys<T> = { [K in keyof T]-?: null extends T[K] ? K : never }[keyof T];
type FieldTable = { [R in keyof Records]: { [K in keyof Records[R]]: K extends NullableKeys<Records[R]> ? 'nullable' : 'required' } };

const TS_FIELDS = {
  SatelEvent: {
    event_id: 'required', panel_id: 'required', kind: 'required', object_number: 'required', panel_time: 'nullable',
    observed_at: 'required', fencing: 'required', dedup_key: 'required', log: 'nullable', trace: 'nullable',
  },
  PanelLogRecord: {
    log_index: 'required', class: 'required', code: 'required', restore: 'required', source: 'required',
    partition: 'required', user: 'required', object: 'required', text: 'nullable',
  },
  Trace: { id: 'required', origin_ms: 'required' },
  PanelLink: {
    event_id: 'required', panel_id: 'required', status: 'required', reason: 'nullable', observed_at: 'required',
    fencing: 'required', dedup_key: 'required', trace: 'nullable',
  },
  AlarmUpdate: {
    alarm_id: 'required', version: 'required', object_id: 'required', panel_id: 'nullable', source: 'required',
    zone: 'nullable', category: 'required', severity: 'required', status: 'required', owner: 'nullable',
    event_count: 'required', restore_count: 'required', first_event_at: 'required', last_event_at: 'required',
    test: 'required', service: 'required', flood: 'required', title: 'required', updated_at: 'required', events: 'required',
  },
  AppliedEvent: { event_id: 'required', observed_at: 'required', trace: 'nullable' },
  CommandResult: {
    command_id: 'required', panel_id: 'required', action: 'required', status: 'required', reason: 'nullable',
    panel_result_code: 'nullable', finished_at: 'required', trace: 'nullable',
  },
  SmsEvent: {
    event_id: 'required', sensor_id: 'required', sender: 'required', kind: 'required', value: 'nullable', unit: 'nullable',
    threshold: 'nullable', raw_text: 'required', sensor_time: 'nullable', observed_at: 'required', dedup_key: 'required',
    trace: 'nullable', direction: 'nullable', template: 'nullable', smsc_time: 'nullable', partial: 'required',
  },
} as const satisfies FieldTable;

type AvscType = Type & { fields?: { name: string; type: AvscType; defaultValue(): unknown }[]; types?: AvscType[]; itemsType?: AvscType; symbols?: string[] };

/** Every named record and enum reachable from a type, by short name. */
function namedTypes(root: Type): Map<string, AvscType> {
  const found = new Map<string, AvscType>();
  const visit = (t: AvscType): void => {
    const short = t.name?.split('.').pop();
    if (short !== undefined) {
      if (found.has(short)) return;
      found.set(short, t);
    }
    for (const f of t.fields ?? []) visit(f.type);
    for (const b of t.types ?? []) visit(b);
    if (t.itemsType) visit(t.itemsType);
  };
  visit(root);
  return found;
}

function avscFields(t: AvscType): Record<string, 'nullable' | 'required'> {
  return Object.fromEntries((t.fields ?? []).map((f) => [f.name, f.type.types?.some((b) => b.typeName === 'null') ? 'nullable' : 'required']));
}

const allNamed = new Map(TOPIC_SCHEMA_NAMES.flatMap((name) => [...namedTypes(loadSchema(name).type)]));

describe('the TypeScript twins match the .avsc files', () => {
  it.each(Object.keys(TS_FIELDS) as (keyof Records)[])('%s has the same fields, nullable in the same places', (record) => {
    const t = allNamed.get(record);
    expect(t?.typeName, `${record} is a record of some topic schema`).toBe('record');
    expect(avscFields(t!)).toEqual(TS_FIELDS[record]);
  });

  it('every nullable field defaults to null, so it can be added to a schema compatibly', () => {
    for (const [record, t] of allNamed) {
      for (const f of t.fields ?? []) {
        if (f.type.types?.some((b) => b.typeName === 'null')) expect(f.defaultValue(), `${record}.${f.name}`).toBeNull();
      }
    }
  });

  it('covers every named record of the schemas', () => {
    const records = [...allNamed].filter(([, t]) => t.typeName === 'record').map(([n]) => n);
    expect(records.sort()).toEqual(Object.keys(TS_FIELDS).sort());
  });

  it.each([
    ['SatelEventKind', SATEL_EVENT_KINDS],
    ['PanelLinkStatus', PANEL_LINK_STATUSES],
    ['AlarmSeverity', ALARM_SEVERITIES],
    ['AlarmStatus', ALARM_STATUSES],
    ['CommandStatus', COMMAND_STATUSES],
    ['SmsEventKind', SMS_EVENT_KINDS],
  ] as const)('enum %s has the exported symbols in order', (name, symbols) => {
    expect(allNamed.get(name)?.symbols).toEqual(symbols);
  });

  it('TOPIC_SCHEMA_NAMES lists every schema of SchemaTypes', () => {
    expect([...TOPIC_SCHEMA_NAMES].sort()).toEqual(Object.keys(SAMPLES).sort());
  });

  it.each(TOPIC_SCHEMA_NAMES)('%s samples have exactly the .avsc fields, and the first/second set/clear every nullable one', (name) => {
    const fields = avscFields(loadSchema(name).type);
    const [full, empty] = SAMPLES[name] as unknown as Record<string, unknown>[];
    expect(Object.keys(full!).sort()).toEqual(Object.keys(fields).sort());
    for (const [field, kind] of Object.entries(fields)) {
      if (kind === 'nullable') {
        expect(full![field], `${name}.${field} set in the first sample`).not.toBeNull();
        expect(empty![field], `${name}.${field} null in the second sample`).toBeNull();
      }
    }
    for (const sample of SAMPLES[name]) expect(loadSchema(name).type.isValid(sample, { noUndeclaredFields: true })).toBe(true);
  });
});
