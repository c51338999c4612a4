import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { isStamError } from './errors.ts';
import { issuesOf, parseValue } from './validate.ts';

const Panel = Type.Object({
  panels: Type.Integer({ minimum: 1, maximum: 500, default: 3 }),
  model: Type.Union([Type.Literal('integra32'), Type.Literal('integra128')], { default: 'integra128' }),
  userCode: Type.Optional(Type.String({ pattern: '^[0-9]{4,16}$' })),
  steps: Type.Array(Type.Object({ at_ms: Type.Number({ minimum: 0 }) }, { additionalProperties: false }), { default: [] }),
}, { additionalProperties: false });

describe('parseValue', () => {
  it('fills defaults and leaves the input alone', () => {
    const input = { panels: 2 };
    expect(parseValue(Panel, input)).toEqual({ panels: 2, model: 'integra128', steps: [] });
    expect(input).toEqual({ panels: 2 });
  });

  it('names the field and the bound at fault', () => {
    expect(() => parseValue(Panel, { panels: 0 })).toThrow(/^panels: Number must be greater than or equal to 1$/);
    expect(() => parseValue(Panel, { panels: 501 }, { where: 'demo.yaml' })).toThrow(/^demo\.yaml: panels: Number must be less than or equal to 500$/);
  });

  it('lists the allowed literals of an enumeration', () => {
    expect(() => parseValue(Panel, { model: 'versa' })).toThrow(/model: must be one of integra32, integra128/);
  });

  it('reports nested paths dotted, unknown fields and patterns', () => {
    expect(() => parseValue(Panel, { steps: [{ at_ms: 1 }, { at_ms: -1 }] })).toThrow(/steps\.1\.at_ms: Number must be greater than or equal to 0/);
    expect(() => parseValue(Panel, { panel: 1 })).toThrow(/panel: unknown field/);
    expect(() => parseValue(Panel, { userCode: '12ab' })).toThrow(/userCode: Invalid: must match/);
  });

  it('throws a StamError with the issues as details, E_VALIDATION unless told otherwise', () => {
    try {
      parseValue(Panel, { panels: 'x' }, { code: 'E_CONFIG' });
      expect.unreachable();
    } catch (err) {
      expect(isStamError(err, 'E_CONFIG')).toBe(true);
      expect((err as { details: { issues: unknown[] } }).details.issues).toEqual([{ path: 'panels', message: 'Expected integer, received string' }]);
    }
  });

  it('converts strings when asked (environment-like input)', () => {
    expect(parseValue(Panel, { panels: '7' }, { convert: true }).panels).toBe(7);
    expect(() => parseValue(Panel, { panels: '7' })).toThrow(/Expected integer/);
  });

  it('reports one line per field, not one per union branch', () => {
    expect(issuesOf(Panel, { panels: 1, steps: [], model: 5 })).toEqual([{ path: 'model', message: 'must be one of integra32, integra128' }]);
  });
});
