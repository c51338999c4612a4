import { describe, expect, it } from 'vitest';
import { PERMISSIONS, ROLES, can, inScope, isScoped, type Permission, type Role } from './rbac.ts';

const rolesWith = (p: Permission) => ROLES.filter((r) => can(r, p));

describe('permission matrix', () => {
  it('only ADMIN changes objects, panels, sensors and recorders', () => {
    expect(rolesWith('object.write')).toEqual(['ADMIN']);
  });
  it('operators, supervisors and admins handle alarms; only supervisors and admins take over', () => {
    expect(rolesWith('alarm.handle')).toEqual(['ADMIN', 'SUPERVISOR', 'OPERATOR']);
    expect(rolesWith('alarm.takeover')).toEqual(['ADMIN', 'SUPERVISOR']);
  });
  it('field workers and SYSTEM never see a secret; the audit log is for admins and supervisors', () => {
    expect(can('FIELD_WORKER', 'secret.reveal')).toBe(false);
    expect(can('SYSTEM', 'secret.reveal')).toBe(false);
    expect(rolesWith('audit.read')).toEqual(['ADMIN', 'SUPERVISOR']);
  });
  it('technicians switch service/test mode (on their own objects), operators do not', () => {
    expect(rolesWith('object.mode')).toEqual(['ADMIN', 'SUPERVISOR', 'TECHNICIAN']);
  });
  it('every role may read alarms and subscribe; scoped roles are TECHNICIAN and FIELD_WORKER', () => {
    expect(rolesWith('alarm.read')).toEqual([...ROLES]);
    expect(rolesWith('stream.subscribe')).toEqual([...ROLES]);
    expect(ROLES.filter((r) => isScoped(r))).toEqual(['TECHNICIAN', 'FIELD_WORKER']);
  });
  it('every person registers and removes their own phones; only ADMIN sees and removes everybody\'s; SYSTEM has none', () => {
    expect(rolesWith('device.own')).toEqual(['ADMIN', 'SUPERVISOR', 'OPERATOR', 'TECHNICIAN', 'FIELD_WORKER']);
    expect(rolesWith('device.all')).toEqual(['ADMIN']);
  });
  it('intents recorded offline are sent by those who handle alarms; accounts are read by supervisors and changed by admins only', () => {
    expect(rolesWith('intent.submit')).toEqual(['ADMIN', 'SUPERVISOR', 'OPERATOR']);
    expect(rolesWith('user.read')).toEqual(['ADMIN', 'SUPERVISOR']);
    expect(rolesWith('user.write')).toEqual(['ADMIN']);
  });
  it('an unknown role can do nothing', () => {
    for (const p of Object.keys(PERMISSIONS) as Permission[]) expect(can('ROOT', p)).toBe(false);
  });
  it('scope: null means every object, a set means only those', () => {
    const base = { id: 1, username: 'u', role: 'TECHNICIAN' as Role };
    expect(inScope({ ...base, objects: null }, 42)).toBe(true);
    expect(inScope({ ...base, objects: new Set([1, 2]) }, 2)).toBe(true);
    expect(inScope({ ...base, objects: new Set([1, 2]) }, 3)).toBe(false);
  });
});
