/**
 * `GET /api/reports/{response-times,alarms,availability,operators,commands}` for analysts, supervisors and
 * admins: a range (`from`, `to`, ISO 8601), filters, a grouping and `format=json|csv|pdf`. They read the
 * replica (databases.ts) and say which database answered (`source`, header `x-report-source`).
 */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { SEVERITIES } from '../../domain/index.ts';
import { StamError, type Logger } from '../../platform/index.ts';
import { Nullable, Timestamp, errors } from '../http.ts';
import type { ReportDatabases } from './databases.ts';
import { csvStream, pdfBuffer, type Column } from './format.ts';
import { ZONE, responseExceptions, type ReportFilter } from './queries.ts';
import { REPORTS, type ReportSpec } from './specs.ts';

export interface ReportsOptions {
  databases: ReportDatabases;
  /** A CRITICAL alarm not claimed within this is an exception of the response-times report. */
  claimDeadlineS: number;
  log: Logger;
}

const MAX_RANGE_DAYS = 3 * 366;
const EXCEPTIONS_LIMIT = 1000;

const query = (groups: readonly string[]) => Type.Object({
  from: Timestamp,
  to: Timestamp,
  group_by: Type.Union(groups.map((g) => Type.Literal(g)), { default: groups[0] }),
  format: Type.Union([Type.Literal('json'), Type.Literal('csv'), Type.Literal('pdf')], { default: 'json' }),
  object_id: Type.Optional(Type.Integer({ minimum: 1, maximum: 2 ** 53 - 1 })),
  category: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  severity: Type.Optional(Type.Union(SEVERITIES.map((s) => Type.Literal(s)))),
  operator: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'username of the operator who claimed (commands: who requested)' })),
  include_test: Type.Boolean({ default: false, description: 'include alarms of objects in test mode' }),
}, { additionalProperties: false });
type Query = Static<ReturnType<typeof query>>;

const Exception = Type.Object({ alarm_id: Type.Integer(), object: Type.String(), category: Type.String(), opened_at: Type.String(), claimed_at: Nullable(Type.String()), waited_s: Type.Number() });
const Answer = Type.Object({
  report: Type.String(), from: Type.String(), to: Type.String(), zone: Type.String(), group_by: Type.String(), source: Type.String(),
  rows: Type.Array(Type.Object({ key: Type.String(), count: Type.Integer() }, { additionalProperties: true })),
  exceptions: Type.Optional(Type.Array(Exception)),
});

function filterOf(q: Query): ReportFilter {
  const from = Date.parse(q.from);
  const to = Date.parse(q.to);
  if (!(to > from)) throw new StamError('E_VALIDATION', '`to` must be after `from`');
  if (to - from > MAX_RANGE_DAYS * 86_400_000) throw new StamError('E_VALIDATION', `a report covers at most ${MAX_RANGE_DAYS} days`);
  return {
    from: new Date(from).toISOString(), to: new Date(to).toISOString(), objectId: q.object_id, category: q.category, severity: q.severity,
    operator: q.operator, includeTest: q.include_test,
  };
}

const warsaw = new Intl.DateTimeFormat('pl-PL', { timeZone: ZONE, dateStyle: 'short', timeStyle: 'short' });

function subtitle(f: ReportFilter, group: string, source: string): string[] {
  const filters = [f.objectId && `object ${f.objectId}`, f.category && `category ${f.category}`, f.severity && `severity ${f.severity}`,
    f.operator && `operator ${f.operator}`, f.includeTest && 'test alarms included'].filter(Boolean).join(', ');
  return [
    `${warsaw.format(new Date(f.from))} – ${warsaw.format(new Date(f.to))} (${ZONE}), grouped by ${group}${filters ? `; ${filters}` : ''}`,
    `read from the ${source}; generated ${warsaw.format(new Date())}`,
  ];
}

const exceptionColumns: Column<Record<string, unknown>>[] = ['alarm_id', 'object', 'category', 'opened_at', 'claimed_at', 'waited_s']
  .map((h) => ({ header: h, value: (r: Record<string, unknown>) => (r[h] as string | number | null) ?? null }));

export function reportRoutes(app: FastifyInstance, o: ReportsOptions): void {
  const register = (spec: ReportSpec) => {
    const Query = query(spec.groups);
    app.get<{ Querystring: Static<typeof Query> }>(`/api/reports/${spec.name}`, {
      config: { permission: 'report.read' },
      schema: {
        tags: ['reports'], summary: `${spec.title} (read replica; json, csv or pdf)`, security: [{ bearer: [] }], querystring: Query,
        response: { 200: Answer, ...errors() },
      },
    }, async (req, reply) => {
      const f = filterOf(req.query);
      const group = req.query.group_by;
      const q = spec.query(f, group);
      if (req.query.format === 'csv') {
        const { db, source } = o.databases.pick();
        const body = csvStream(db, q, spec.columns, (r) => r, (err) => req.log.error({ err: err.message, report: spec.name }, 'report stream failed'));
        return reply.header('content-type', 'text/csv; charset=utf-8').header('x-report-source', source)
          .header('content-disposition', `attachment; filename="${spec.name}-${f.from.slice(0, 10)}.csv"`).send(body);
      }
      const { value, source } = await o.databases.run(async (db) => {
        const rows = await db.any(q);
        const exceptions = spec.name === 'response-times' ? await db.any(responseExceptions(f, o.claimDeadlineS, EXCEPTIONS_LIMIT)) : undefined;
        return { rows: rows as Record<string, unknown>[], exceptions };
      });
      if (req.query.format === 'pdf') {
        const pdf = await pdfBuffer({
          title: spec.title, subtitle: subtitle(f, group, source), columns: spec.columns, rows: value.rows,
          chart: { label: spec.chart.label, key: (r) => String(r.key), value: spec.chart.value },
          ...(value.exceptions ? { sections: [{ title: `CRITICAL alarms not claimed within ${o.claimDeadlineS} s`, columns: exceptionColumns, rows: value.exceptions.slice(0, 200) }] } : {}),
        });
        return reply.header('content-type', 'application/pdf').header('x-report-source', source)
          .header('content-disposition', `attachment; filename="${spec.name}-${f.from.slice(0, 10)}.pdf"`).send(pdf);
      }
      void reply.header('x-report-source', source);
      return {
        report: spec.name, from: f.from, to: f.to, zone: ZONE, group_by: group, source, rows: value.rows.map(spec.toJson),
        ...(value.exceptions ? { exceptions: value.exceptions } : {}),
      };
    });
  };
  for (const spec of Object.values(REPORTS)) register(spec);
}
