/**
 * Roles and the permission matrix, in one place. Every `/api` route names one permission (route
 * `config.permission`); the gateway refuses to start if a route names none. TECHNICIAN and FIELD_WORKER are
 * additionally scoped: they see and touch only the objects assigned to them (`user_objects`).
 */

export const ROLES = ['ADMIN', 'SUPERVISOR', 'OPERATOR', 'TECHNICIAN', 'FIELD_WORKER', 'SYSTEM', 'ANALYST'] as const;
export type Role = (typeof ROLES)[number];

const ALL = ROLES;

/**
 *                     ADMIN  SUPERVISOR  OPERATOR  TECHNICIAN  FIELD_WORKER  SYSTEM  ANALYST
 * alarm.read            ✓        ✓          ✓       scoped       scoped        ✓       ✓
 * alarm.handle          ✓        ✓          ✓         –            –           –       –     claim/release/ack/resolve/close
 * alarm.takeover        ✓        ✓          –         –            –           –       –     take over / release / close others' alarms
 * object.read           ✓        ✓          ✓       scoped       scoped        ✓       ✓     objects, panels, sensors, recorders, live state
 * object.write          ✓        –          –         –            –           –       –     create/update objects, panels, sensors, recorders
 * object.mode           ✓        ✓          –       scoped         –           –       –     service and test mode
 * secret.reveal         ✓        ✓          ✓       scoped         –           –       –     recorder password, with a reason, audited
 * audit.read            ✓        ✓          –         –            –           –       –
 * panel.command         ✓        ✓       config       –            –           –       –     arm/disarm/outputs; OPERATOR only with COMMANDS_OPERATOR_ALLOWED
 * report.read           ✓        ✓          –         –            –           –       ✓     /api/reports/* (read replica)
 * stream.subscribe      ✓        ✓          ✓       scoped       scoped        ✓       ✓     WebSocket ticket
 * self                  ✓        ✓          ✓         ✓            ✓           ✓       ✓     own profile
 * device.own            ✓        ✓          ✓         ✓            ✓           –       –     register, list and remove own phones (push)
 * device.all            ✓        –          –         –            –           –       –     list and remove everybody's phones
 * intent.submit         ✓        ✓          ✓         –            –           –       –     send intents recorded offline (claim when still free)
 * user.read             ✓        ✓          –         –            –           –       –     accounts and their object assignments
 * user.write            ✓        –          –         –            –           –       –     create/change/disable accounts, assign objects
 */
export const PERMISSIONS = {
  'alarm.read': ALL,
  'alarm.handle': ['ADMIN', 'SUPERVISOR', 'OPERATOR'],
  'alarm.takeover': ['ADMIN', 'SUPERVISOR'],
  'object.read': ALL,
  'object.write': ['ADMIN'],
  'object.mode': ['ADMIN', 'SUPERVISOR', 'TECHNICIAN'],
  'secret.reveal': ['ADMIN', 'SUPERVISOR', 'OPERATOR', 'TECHNICIAN'],
  'audit.read': ['ADMIN', 'SUPERVISOR'],
  // OPERATOR passes this check; gateway/commands-routes.ts refuses it unless COMMANDS_OPERATOR_ALLOWED.
  'panel.command': ['ADMIN', 'SUPERVISOR', 'OPERATOR'],
  'report.read': ['ADMIN', 'SUPERVISOR', 'ANALYST'],
  'stream.subscribe': ALL,
  self: ALL,
  'device.own': ['ADMIN', 'SUPERVISOR', 'OPERATOR', 'TECHNICIAN', 'FIELD_WORKER'],
  'device.all': ['ADMIN'],
  'intent.submit': ['ADMIN', 'SUPERVISOR', 'OPERATOR'],
  'user.read': ['ADMIN', 'SUPERVISOR'],
  'user.write': ['ADMIN'],
} as const satisfies Record<string, readonly Role[]>;

export type Permission = keyof typeof PERMISSIONS;

export const SCOPED_ROLES: readonly Role[] = ['TECHNICIAN', 'FIELD_WORKER'];

export function isRole(s: string): s is Role {
  return (ROLES as readonly string[]).includes(s);
}

export function can(role: string, permission: Permission): boolean {
  return isRole(role) && (PERMISSIONS[permission] as readonly Role[]).includes(role);
}

export function isScoped(role: Role): boolean {
  return SCOPED_ROLES.includes(role);
}

/** Who is asking: from the token, with role and scope as stored now (a demoted or disabled user loses access within seconds). */
export interface Principal {
  id: number;
  username: string;
  role: Role;
  /** Object ids the user may see; null = every object. */
  objects: ReadonlySet<number> | null;
}

export function inScope(p: Principal, objectId: number): boolean {
  return p.objects === null || p.objects.has(objectId);
}

/** SQL parameter for "object in scope": null = unrestricted, else the array of object ids. */
export function scopeParam(p: Principal): number[] | null {
  return p.objects === null ? null : [...p.objects];
}
