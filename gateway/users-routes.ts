import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { StamError } from '../platform/index.ts';
import { Id, IdParams, Nullable, Timestamp, actorOf, errors, notFound, principalOf, type RouteDeps } from './http.ts';
import { hashPassword } from './passwords.ts';
import { ROLES } from './rbac.ts';
import { createUserStore } from './users-store.ts';

const Role = Type.Union(ROLES.map((r) => Type.Literal(r)));
const Password = Type.String({ minLength: 10, maxLength: 256, description: 'at least 10 characters; stored as a scrypt hash' });
const UserCreate = Type.Object({
  username: Type.String({ pattern: '^[a-zA-Z0-9._@-]{2,64}$', maxLength: 64 }), display_name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  role: Role, password: Password,
}, { additionalProperties: false });
const UserUpdate = Type.Object({
  display_name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })), role: Type.Optional(Role), disabled: Type.Optional(Type.Boolean()),
  password: Type.Optional(Password),
}, { additionalProperties: false, minProperties: 1 });
const ObjectsBody = Type.Object({ objects: Type.Array(Id(), { maxItems: 10_000, uniqueItems: true }) }, { additionalProperties: false });
const UserOut = Type.Object({
  id: Type.Integer(), username: Type.String(), display_name: Type.String(), role: Type.String(), disabled: Type.Boolean(),
  locked_until: Nullable(Timestamp), on_duty_until: Nullable(Timestamp), has_pin: Type.Boolean(), passkeys: Type.Integer(),
  objects: Type.Array(Type.Integer()), created_at: Timestamp,
});

/** Accounts for the admin screens: list (supervisors too), create, change, disable, assign objects (admins). */
export function userRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const users = createUserStore(deps.pool);

  app.get('/api/users', {
    config: { permission: 'user.read' },
    schema: { tags: ['users'], summary: 'Accounts with their roles and object assignments', security: [{ bearer: [] }], response: { 200: Type.Object({ items: Type.Array(UserOut) }), ...errors() } },
  }, async () => ({ items: await users.list() }));

  app.post<{ Body: Static<typeof UserCreate> }>('/api/users', {
    config: { permission: 'user.write' },
    schema: { tags: ['users'], summary: 'Create an account', security: [{ bearer: [] }], body: UserCreate, response: { 201: UserOut, ...errors(409) } },
  }, async (req, res) => {
    const { password, ...rest } = req.body;
    const id = await users.create({ ...rest, password_hash: await hashPassword(password) }, actorOf(req));
    return res.status(201).send(await users.get(id));
  });

  app.patch<{ Params: Static<typeof IdParams>; Body: Static<typeof UserUpdate> }>('/api/users/:id', {
    config: { permission: 'user.write' },
    schema: { tags: ['users'], summary: 'Change an account (disabling it ends its sessions)', security: [{ bearer: [] }], params: IdParams, body: UserUpdate, response: { 200: UserOut, ...errors(404) } },
  }, async (req) => {
    const { password, ...rest } = req.body;
    if (req.params.id === principalOf(req).id && (rest.disabled || (rest.role && rest.role !== 'ADMIN'))) {
      throw new StamError('E_VALIDATION', 'an admin cannot disable or demote their own account');
    }
    const found = await users.update(req.params.id, { ...rest, ...(password ? { password_hash: await hashPassword(password) } : {}) }, actorOf(req));
    if (!found) throw notFound('user', req.params.id);
    return users.get(req.params.id);
  });

  app.put<{ Params: Static<typeof IdParams>; Body: Static<typeof ObjectsBody> }>('/api/users/:id/objects', {
    config: { permission: 'user.write' },
    schema: { tags: ['users'], summary: 'Replace the objects assigned to an account (what TECHNICIAN and FIELD_WORKER see)', security: [{ bearer: [] }], params: IdParams, body: ObjectsBody, response: { 200: UserOut, ...errors(404) } },
  }, async (req) => {
    if (!await users.setObjects(req.params.id, req.body.objects, actorOf(req))) throw notFound('user', req.params.id);
    return users.get(req.params.id);
  });
}
