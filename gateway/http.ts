import { Type, type TSchema } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { StamError, type AuditActor, type ErrorCode, type Lifecycle, type Logger, type Pool, type ReadinessCheck, type Redis, type SecretBox } from '../platform/index.ts';
import type { CommandApiOptions } from '../commands/index.ts';
import type { Claims, KeyRing } from './keys.ts';
import type { Permission, Principal } from './rbac.ts';
import type { GatewaySettings } from './settings.ts';
import type { ReportsOptions } from './reports/index.ts';
import type { AlarmStream } from './stream.ts';
import type { EfentoIntake } from './efento-store.ts';

declare module 'fastify' {
  interface FastifyRequest { user?: Claims; principal?: Principal }
  interface FastifyContextConfig {
    /** The permission a route needs (gateway/rbac.ts); every /api route names one, or is `public`. */
    permission?: Permission;
    public?: boolean;
  }
}

export interface GatewayDeps {
  pool: Pool;
  redis: Redis;
  keys: KeyRing;
  stream?: AlarmStream;
  log: Logger;
  checks: ReadinessCheck[];
  lifecycle: Lifecycle;
  settings?: Partial<GatewaySettings>;
  /** Seals recorder passwords and panel secrets; the process-wide ring when absent. */
  secrets?: SecretBox;
  /** Redis for panel live state (defaults to `redis`); separate so a test can make it fail alone. */
  liveRedis?: Redis;
  /** Arm/disarm commands (gateway/commands-routes.ts); the routes are absent without it. */
  commands?: CommandApiOptions;
  /** Reports on the read replica (gateway/reports/); the routes are absent without it. */
  reports?: ReportsOptions;
  /** Efento Cloud alert webhooks into the SMS path (FEATURE_SMS_ENABLED); the route is absent without it. */
  efento?: EfentoIntake;
}

/** Deps as route modules see them: settings filled in. */
export type RouteDeps = Omit<GatewayDeps, 'settings'> & { settings: GatewaySettings };

/** HTTP status of each error code the gateway answers with; anything else is a 500. */
export const HTTP_STATUS: Partial<Record<ErrorCode, number>> = {
  E_VALIDATION: 400, E_AUTH_INVALID: 401, E_AUTH_TOKEN: 401, E_AUTH_REFRESH: 401, E_WS_TICKET: 401, E_FORBIDDEN: 403,
  E_NOT_FOUND: 404, E_ALARM_CONFLICT: 409, E_ALARM_OWNER: 409, E_CONFLICT: 409, E_AUTH_LOCKED: 423, E_AUTH_THROTTLED: 429, E_RATE_LIMITED: 429,
  E_DB_UNAVAILABLE: 503, E_UNAVAILABLE: 503, E_SMS_WEBHOOK: 401,
};

export const ErrorBody = Type.Object({ code: Type.String(), message: Type.String(), details: Type.Optional(Type.Unknown()) }, { $id: 'Error' });

/** Error responses every authenticated route documents. */
export const errors = (...extra: number[]): Record<number, TSchema> =>
  Object.fromEntries([400, 401, 403, ...extra].map((s) => [s, Type.Ref('Error')]));

/** A row id (bigint) as the API takes it: positive and exact in JavaScript, so a 20-digit id is a 400, not an overflow in PostgreSQL. */
export const Id = (o: { description?: string; minimum?: number } = {}) => Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, ...o });
/** An alarm version (integer column). */
export const Version = (o: { description?: string } = {}) => Type.Integer({ minimum: 1, maximum: 2 ** 31 - 1, ...o });

export const IdParams = Type.Object({ id: Id() }, { additionalProperties: false });

export const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
export const Timestamp = Type.String({ format: 'date-time' });

export function principalOf(req: FastifyRequest): Principal {
  if (!req.principal) throw new StamError('E_AUTH_TOKEN', 'not authenticated');
  return req.principal;
}

/** Who made a request and from where, for its audit rows (stores write them in their transactions). */
export function actorOf(req: FastifyRequest): AuditActor {
  return { userId: req.principal?.id ?? null, username: req.principal?.username ?? null, requestId: req.id, ip: req.ip };
}

export function notFound(what: string, id: number | string): StamError {
  return new StamError('E_NOT_FOUND', `${what} ${id} not found`);
}
