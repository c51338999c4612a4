/**
 * Where reports read: the read replica (DATABASE_REPLICA_URL) through a pool of their own — the bulkhead: a
 * heavy report never takes a connection the alarm routes need — with a statement timeout; and when the
 * replica is down or lags more than the configured bound, the primary, through a second small pool of the
 * reports' own, with a WARNING and a metric. The lag is measured on the replica every few seconds and
 * exported as `pg_replication_lag_seconds` (the alert of the specification).
 *
 * slonik, the customer's choice for SQL, runs the report queries: its rows are checked at run time against a
 * zod row type (the only place zod is used: slonik's row-type language). The alarm routes keep raw `pg` with
 * named prepared statements (gateway/alarm-store.ts), a measured hot path that slonik's interceptors would
 * slow down.
 */
import { createPgDriverFactory } from '@slonik/pg-driver';
import { createPool, sql, SchemaValidationError, type DatabasePool, type Interceptor, type QueryResultRow } from 'slonik';
import { z } from 'zod';
import { counter, gauge, type Logger } from '../../platform/index.ts';

const m = {
  lag: gauge('pg_replication_lag_seconds', 'how far the read replica is behind the primary (0 when it has replayed all it received; -1 unreachable)'),
  source: counter('stam_reports_total', 'reports answered, by the database that answered', ['source']),
  fallback: counter('stam_reports_fallback_total', 'reports answered by the primary because the replica was down or lagging', ['reason']),
};

export type ReportSource = 'replica' | 'primary';

export interface ReportDatabasesOptions {
  primaryUrl: string;
  /** Unset: reports read the primary (through their own pool), with no warning — that is the configuration. */
  replicaUrl?: string | undefined;
  poolSize: number;
  statementTimeoutMs: number;
  /** A replica further behind than this is not used. */
  maxLagS: number;
  log: Logger;
  /** How often the replica's lag is measured (default 5 s). */
  checkEveryMs?: number;
}

/** Rows are parsed with the query's zod row type (slonik `sql.type(...)`): a column that is not what it claims is an error, not a wrong figure. */
const resultParser: Interceptor = {
  name: 'stam-result-parser',
  transformRow: (ctx, query, row) => {
    if (!ctx.resultParser) return row;
    const r = ctx.resultParser.safeParse(row);
    if (!r.success) throw new SchemaValidationError(query, row, r.error.issues);
    return r.data as QueryResultRow;
  },
};

async function reportPool(url: string, o: ReportDatabasesOptions, name: string): Promise<DatabasePool> {
  const u = new URL(url);
  u.searchParams.set('application_name', `stam-reports-${name}`);
  // Percentiles sort whole groups: room to sort in memory instead of spilling to disk (reports' connections only).
  u.searchParams.set('options', '-c work_mem=32MB');
  return createPool(u.toString(), {
    driverFactory: createPgDriverFactory(),
    maximumPoolSize: o.poolSize,
    statementTimeout: o.statementTimeoutMs,
    connectionTimeout: 3_000,
    idleTimeout: 30_000,
    interceptors: [resultParser],
  });
}

const Lag = z.object({ lag: z.number() });

export interface ReportDatabases {
  /** Runs a report on the replica when it is usable, else on the primary; says which answered. */
  run<T>(report: (db: DatabasePool) => Promise<T>): Promise<{ value: T; source: ReportSource }>;
  /** The database a report would use now (for streaming answers, which cannot be retried once started). */
  pick(): { db: DatabasePool; source: ReportSource };
  /** The replica's last measured lag in seconds (undefined: no replica or unreachable). */
  lagS(): number | undefined;
  /** Measures the lag now (also done on a timer). */
  check(): Promise<void>;
  close(): Promise<void>;
}

export async function createReportDatabases(o: ReportDatabasesOptions): Promise<ReportDatabases> {
  const primary = await reportPool(o.primaryUrl, o, 'primary');
  const replica = o.replicaUrl ? await reportPool(o.replicaUrl, o, 'replica') : undefined;
  let lag: number | undefined;
  let unusable: string | undefined = replica ? undefined : 'none';

  const setState = (why: string | undefined, detail: Record<string, unknown> = {}) => {
    if (why === unusable) return;
    if (why) o.log.warn({ reason: why, ...detail }, 'read replica unusable: reports read the primary');
    else o.log.info({ lagS: lag }, 'read replica usable again: reports read it');
    unusable = why;
  };

  async function check(): Promise<void> {
    if (!replica) return;
    try {
      const r = await replica.one(sql.type(Lag)`
        SELECT CASE WHEN pg_last_wal_receive_lsn() IS NULL OR pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
                    ELSE COALESCE(extract(epoch FROM now() - pg_last_xact_replay_timestamp()), 0) END::float8 AS lag`);
      lag = r.lag;
      m.lag.set(lag);
      setState(lag > o.maxLagS ? 'lagging' : undefined, { lagS: lag, maxLagS: o.maxLagS });
    } catch (err) {
      lag = undefined;
      m.lag.set(-1);
      setState('down', { err: (err as Error).message });
    }
  }

  await check();
  const timer = setInterval(() => void check(), o.checkEveryMs ?? 5_000);
  timer.unref();

  const pick = (): { db: DatabasePool; source: ReportSource } => {
    if (replica && !unusable) return { db: replica, source: 'replica' };
    if (replica) m.fallback.inc({ reason: unusable ?? 'down' });
    return { db: primary, source: 'primary' };
  };

  return {
    pick,
    async run(report) {
      const chosen = pick();
      try {
        const value = await report(chosen.db);
        m.source.inc({ source: chosen.source });
        return { value, source: chosen.source };
      } catch (err) {
        // A replica that went away between two checks: this report, and the next ones until it answers again, go to the primary.
        if (chosen.source !== 'replica' || !isConnectionLoss(err)) throw err;
        setState('down', { err: (err as Error).message });
        m.fallback.inc({ reason: 'down' });
        const value = await report(primary);
        m.source.inc({ source: 'primary' });
        return { value, source: 'primary' };
      }
    },
    lagS: () => lag,
    check,
    async close() {
      clearInterval(timer);
      await replica?.end();
      await primary.end();
    },
  };
}

function isConnectionLoss(err: unknown): boolean {
  for (let e = err as { name?: unknown; code?: unknown; cause?: unknown } | undefined; e && typeof e === 'object'; e = e.cause as typeof e) {
    if (e.name === 'ConnectionError' || e.name === 'BackendTerminatedError' || e.name === 'BackendTerminatedUnexpectedlyError') return true;
    if (typeof e.code === 'string' && (/^(08|57P0)/.test(e.code) || ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT'].includes(e.code))) return true;
  }
  return false;
}
