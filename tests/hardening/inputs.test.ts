import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RoleProcess } from '../../load-tests/index.ts';
import { createTestEnv, type TestEnv } from '../helpers/env.ts';
import { createVhost, startGatewayRole } from '../helpers/commands.ts';
import { api, createOperator, createPanel, login } from '../helpers/system.ts';

/**
 * Black-box, against a running gateway: every input the API documents is bounded, and out-of-range input is
 * a 400 with the field named — never a 500 from PostgreSQL. The walk reads the served OpenAPI document, so
 * a route added later is covered without touching this file.
 */
interface Schema {
  type?: string | string[]; maximum?: number; minimum?: number; maxLength?: number; maxItems?: number; uniqueItems?: boolean;
  enum?: unknown[]; const?: unknown; format?: string; pattern?: string;
  items?: Schema; properties?: Record<string, Schema>; anyOf?: Schema[]; oneOf?: Schema[]; allOf?: Schema[];
}
interface Parameter { name: string; in: string; required?: boolean; schema: Schema }
interface Operation { parameters?: Parameter[]; requestBody?: { content: Record<string, { schema: Schema }> } }
type Spec = { paths: Record<string, Record<string, Operation>> };

const SAFE = Number.MAX_SAFE_INTEGER;
const types = (s: Schema) => [s.type ?? []].flat();

/** What is unbounded in one input schema, as `where: why`. */
function unbounded(s: Schema, where: string): string[] {
  const out: string[] = [];
  for (const alt of [...(s.anyOf ?? []), ...(s.oneOf ?? []), ...(s.allOf ?? [])]) out.push(...unbounded(alt, where));
  if (s.enum || s.const !== undefined) return out;
  const t = types(s);
  if ((t.includes('integer') || t.includes('number')) && !(typeof s.maximum === 'number' && s.maximum <= SAFE)) out.push(`${where}: number without a safe maximum`);
  if (t.includes('string') && s.maxLength === undefined && !['date-time', 'uuid', 'date'].includes(s.format ?? '')) out.push(`${where}: string without maxLength`);
  if (t.includes('array')) {
    if (s.maxItems === undefined) out.push(`${where}: array without maxItems`);
    const scalar = s.items && !types(s.items).includes('object');
    if (scalar && !s.uniqueItems) out.push(`${where}: array of scalars without uniqueItems`);
    if (s.items) out.push(...unbounded(s.items, `${where}[]`));
  }
  for (const [k, p] of Object.entries(s.properties ?? {})) out.push(...unbounded(p, `${where}.${k}`));
  return out;
}

const operations = (spec: Spec) => Object.entries(spec.paths).filter(([p]) => p.startsWith('/api/'))
  .flatMap(([path, ops]) => Object.entries(ops).filter(([m]) => m !== 'parameters').map(([method, op]) => ({ path, method: method.toUpperCase(), op })));

/** A valid value for a required parameter we are not testing. */
function filler(p: Parameter): string {
  if (p.schema.format === 'date-time' || /^(from|to)$/.test(p.name)) return p.name === 'to' ? '2026-02-01T00:00:00Z' : '2026-01-01T00:00:00Z';
  if (p.schema.format === 'uuid') return '00000000-0000-4000-8000-000000000000';
  if (types(p.schema).includes('boolean')) return 'false';
  const first = [p.schema, ...(p.schema.anyOf ?? []), ...(p.schema.oneOf ?? [])].find((x) => x.const !== undefined || x.enum);
  if (first?.const !== undefined || first?.enum) return String(first.const ?? first.enum![0]);
  return '1';
}

describe('hardening: every input is bounded', () => {
  let env: TestEnv;
  let vhost: Awaited<ReturnType<typeof createVhost>>;
  let gateway: RoleProcess;
  let base: string;
  let token: string;
  let spec: Spec;

  beforeAll(async () => {
    vhost = await createVhost();
    env = await createTestEnv({ RABBITMQ_URL: vhost.url, FEATURE_ARM_DISARM_ENABLED: 'true', FEATURE_SMS_ENABLED: 'false' });
    await createPanel(env.pool, 17_100, 'BOUNDS');
    const gw = await startGatewayRole(env.vars);
    gateway = gw.role;
    base = gw.base;
    token = await login(base, await createOperator(env.pool, 'admin-bounds', 'ADMIN'));
    spec = (await api<Spec>(base, '/docs/json')).body;
  });

  afterAll(async () => {
    await gateway?.stop();
    await env?.cleanup();
    await vhost?.remove();
  });

  it('the OpenAPI document bounds every number, string and array a client may send', () => {
    const found: string[] = [];
    for (const { path, method, op } of operations(spec)) {
      for (const p of op.parameters ?? []) found.push(...unbounded(p.schema, `${method} ${path} ${p.in}:${p.name}`));
      for (const [type, c] of Object.entries(op.requestBody?.content ?? {})) found.push(...unbounded(c.schema, `${method} ${path} body(${type})`));
    }
    expect(operations(spec).length).toBeGreaterThan(40);
    expect(found).toEqual([]);
  });

  it('a 20-digit id, cursor or count anywhere in a path or query is a 400 naming the field, not a 500', async () => {
    const tried: string[] = [];
    for (const { path, method, op } of operations(spec)) {
      const params = op.parameters ?? [];
      for (const target of params.filter((p) => types(p.schema).includes('integer') && (p.in === 'path' || p.in === 'query'))) {
        let url = path;
        const query = new URLSearchParams();
        for (const p of params) {
          const value = p === target ? '99999999999999999999' : filler(p);
          if (p.in === 'path') url = url.replace(`{${p.name}}`, value);
          else if (p === target || p.required) query.set(p.name, value);
        }
        const body = method === 'POST' || method === 'PUT' || method === 'PATCH' ? {} : undefined;
        const res = await api<{ code?: string; message?: string }>(base, `${url}?${query}`, { method, token, ...(body ? { body } : {}) });
        tried.push(`${method} ${path} ${target.name}`);
        expect({ at: `${method} ${path} ${target.name}`, status: res.status, code: res.body.code }).toEqual({ at: `${method} ${path} ${target.name}`, status: 400, code: 'E_VALIDATION' });
        if (target.in === 'query') expect(res.body.message, `${method} ${url}?${query}`).toContain(target.name);
      }
    }
    expect(tried.length).toBeGreaterThan(20);
  });

  it('a keyset cursor beyond bigint is refused, and a repeated filter value is refused rather than multiplied', async () => {
    const far = await api<{ code?: string }>(base, `/api/alarms?cursor=t99999999999999999999:1&from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z`, { token });
    expect({ status: far.status, code: far.body.code }).toEqual({ status: 400, code: 'E_VALIDATION' });
    const twice = await api<{ code?: string; message?: string }>(base, '/api/alarms?status=NEW&status=NEW', { token });
    expect({ status: twice.status, code: twice.body.code }).toEqual({ status: 400, code: 'E_VALIDATION' });
    expect(twice.body.message).toMatch(/status/);
    const fine = await api<{ items: unknown[] }>(base, '/api/alarms?status=NEW&status=CLAIMED', { token });
    expect(fine.status).toBe(200);
  });
});
