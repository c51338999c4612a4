/**
 * The one way files and option objects are validated: a TypeBox schema (the same library as the
 * configuration and every route schema), defaults filled in, and an error that names the field at fault.
 * Pure: no I/O, safe for the codec, the simulator and domain/ to import (as a leaf, not via index.ts).
 */
import type { Static, TSchema } from '@sinclair/typebox';
import { Value, ValueErrorType, type ValueError } from '@sinclair/typebox/value';
import { StamError, type ErrorCode } from './errors.ts';

export interface Issue { path: string; message: string }

export interface ParseOptions {
  /** Prefixed to every message: a file name, "rule 3", "step 2". */
  where?: string;
  /** The error code thrown (default E_VALIDATION). */
  code?: ErrorCode;
  /** Coerce strings to numbers and booleans first (environment-like input). */
  convert?: boolean;
}

/** Validates `data` against `schema` with defaults filled in; throws StamError naming the first fields at fault. */
export function parseValue<T extends TSchema>(schema: T, data: unknown, opts: ParseOptions = {}): Static<T> {
  let value = Value.Clone(data) as Static<T>;
  if (opts.convert) value = Value.Convert(schema, value);
  value = Value.Default(schema, value);
  const issues = issuesOf(schema, value);
  if (issues.length > 0) {
    const text = issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ');
    throw new StamError(opts.code ?? 'E_VALIDATION', opts.where ? `${opts.where}: ${text}` : text, { details: { issues } });
  }
  return value;
}

/** The problems of `value` against `schema` (at most `max`, one per path, in the schema's field order), in readable words. */
export function issuesOf(schema: TSchema, value: unknown, max = 5): Issue[] {
  const out: Issue[] = [];
  const seen = new Set<string>();
  for (const e of Value.Errors(schema, value)) {
    const path = dotted(e.path);
    // A union reports its own failure and each branch's; the union's line says it best.
    if ([...seen].some((p) => p === path || path.startsWith(`${p}.`))) continue;
    seen.add(path);
    out.push({ path, message: describe(e) });
  }
  const fields = Object.keys((schema as { properties?: Record<string, unknown> }).properties ?? {});
  const rank = (i: Issue) => { const n = fields.indexOf(i.path.split('.')[0] ?? ''); return n < 0 ? fields.length : n; };
  return out.sort((a, b) => rank(a) - rank(b)).slice(0, max);
}

const dotted = (pointer: string): string => pointer.split('/').filter(Boolean).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~')).join('.');

function received(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

function describe(e: ValueError): string {
  const s = e.schema as Record<string, unknown>;
  switch (e.type) {
    case ValueErrorType.ObjectRequiredProperty: return 'Required';
    case ValueErrorType.ObjectAdditionalProperties: return 'unknown field';
    case ValueErrorType.NumberMinimum: case ValueErrorType.IntegerMinimum: return `Number must be greater than or equal to ${String(s.minimum)}`;
    case ValueErrorType.NumberMaximum: case ValueErrorType.IntegerMaximum: return `Number must be less than or equal to ${String(s.maximum)}`;
    case ValueErrorType.NumberExclusiveMinimum: case ValueErrorType.IntegerExclusiveMinimum: return `Number must be greater than ${String(s.exclusiveMinimum)}`;
    case ValueErrorType.NumberExclusiveMaximum: case ValueErrorType.IntegerExclusiveMaximum: return `Number must be less than ${String(s.exclusiveMaximum)}`;
    case ValueErrorType.Integer: return `Expected integer, received ${typeof e.value === 'number' ? 'a fraction' : received(e.value)}`;
    case ValueErrorType.Number: return `Expected number, received ${received(e.value)}`;
    case ValueErrorType.String: return `Expected string, received ${received(e.value)}`;
    case ValueErrorType.Boolean: return `Expected true or false, received ${received(e.value)}`;
    case ValueErrorType.Object: return `Expected a mapping, received ${received(e.value)}`;
    case ValueErrorType.Array: return `Expected a list, received ${received(e.value)}`;
    case ValueErrorType.StringPattern: return `Invalid: must match ${String(s.pattern)}`;
    case ValueErrorType.StringMinLength: return Number(s.minLength) === 1 ? 'must not be empty' : `String must contain at least ${String(s.minLength)} character(s)`;
    case ValueErrorType.StringMaxLength: return `String must contain at most ${String(s.maxLength)} character(s)`;
    case ValueErrorType.ArrayMinItems: return `Array must contain at least ${String(s.minItems)} element(s)`;
    case ValueErrorType.ArrayMaxItems: return `Array must contain at most ${String(s.maxItems)} element(s)`;
    case ValueErrorType.TupleLength: case ValueErrorType.Tuple: return `Expected a list of ${Number(s.minItems ?? s.maxItems)} items`;
    case ValueErrorType.Literal: return `must be ${JSON.stringify(s.const)}`;
    case ValueErrorType.Union: {
      const consts = Array.isArray(s.anyOf) ? (s.anyOf as Record<string, unknown>[]).map((b) => b.const) : [];
      if (consts.length > 0 && consts.every((c) => c !== undefined)) return `must be one of ${consts.map(String).join(', ')}`;
      return typeof s.description === 'string' ? `must be ${s.description}` : 'matches none of the allowed forms';
    }
    default: return e.message;
  }
}
