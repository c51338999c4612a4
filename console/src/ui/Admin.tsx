import { useEffect, useState } from 'react';
import { api } from '../api.ts';
import { t, toast, useStore } from '../store.ts';
import { Dialog } from './Dialog.tsx';
import { field, text } from './form.ts';

type Kind = 'text' | 'number' | 'bool' | 'textarea' | 'password' | 'zones' | 'ids' | { options: readonly string[] };
interface Field { name: string; kind: Kind; create?: 'required' | 'optional' | 'never'; edit?: boolean }
interface Spec { path: string; title: 'admin.objects' | 'admin.panels' | 'admin.sensors' | 'admin.recorders' | 'admin.users'; columns: string[]; fields: Field[]; list: string }

const ROLES = ['ADMIN', 'SUPERVISOR', 'OPERATOR', 'TECHNICIAN', 'FIELD_WORKER', 'SYSTEM', 'ANALYST'] as const;

/** Each admin screen as data: the API route, the columns of its table and the fields of its form. */
export const SPECS: Spec[] = [
  { path: 'objects', title: 'admin.objects', list: '/api/objects?limit=500', columns: ['id', 'code', 'name', 'address'], fields: [
    { name: 'code', kind: 'text', create: 'required' }, { name: 'name', kind: 'text', create: 'required' }, { name: 'address', kind: 'text' },
    { name: 'latitude', kind: 'number' }, { name: 'longitude', kind: 'number' }, { name: 'contacts', kind: 'textarea' }, { name: 'notes', kind: 'textarea' }] },
  { path: 'panels', title: 'admin.panels', list: '/api/panels', columns: ['id', 'object_id', 'name', 'host', 'port', 'model', 'enabled'], fields: [
    { name: 'object_id', kind: 'number', create: 'required', edit: false }, { name: 'name', kind: 'text', create: 'required' }, { name: 'host', kind: 'text', create: 'required' },
    { name: 'port', kind: 'number', create: 'required' }, { name: 'model', kind: 'text' }, { name: 'enabled', kind: 'bool' }, { name: 'zones', kind: 'zones' }, { name: 'partitions', kind: 'zones' }] },
  { path: 'sensors', title: 'admin.sensors', list: '/api/sensors', columns: ['id', 'object_id', 'vendor', 'sender', 'sensor_ref', 'name'], fields: [
    { name: 'object_id', kind: 'number', create: 'required' }, { name: 'vendor', kind: { options: ['efento', 'blulog', 'other'] }, create: 'required' },
    { name: 'sender', kind: 'text', create: 'required' }, { name: 'sensor_ref', kind: 'text', create: 'required' }, { name: 'name', kind: 'text', create: 'required' }] },
  { path: 'recorders', title: 'admin.recorders', list: '/api/recorders', columns: ['id', 'object_id', 'name', 'host', 'port', 'login'], fields: [
    { name: 'object_id', kind: 'number', create: 'required' }, { name: 'name', kind: 'text', create: 'required' }, { name: 'host', kind: 'text', create: 'required' },
    { name: 'port', kind: 'number', create: 'required' }, { name: 'login', kind: 'text', create: 'required' }, { name: 'password', kind: 'password', create: 'required' }] },
  { path: 'users', title: 'admin.users', list: '/api/users', columns: ['id', 'username', 'display_name', 'role', 'disabled', 'objects'], fields: [
    { name: 'username', kind: 'text', create: 'required', edit: false }, { name: 'display_name', kind: 'text' }, { name: 'role', kind: { options: ROLES }, create: 'required' },
    { name: 'password', kind: 'password', create: 'required' }, { name: 'disabled', kind: 'bool', create: 'never' }, { name: 'objects', kind: 'ids', create: 'never' }] },
];

type Row = Record<string, unknown> & { id: number };

const zonesText = (v: unknown) => (Array.isArray(v) ? (v as { number: number; name: string }[]).map((z) => `${z.number}: ${z.name}`).join('\n') : '');
const parseZones = (s: string) => s.split('\n').map((l) => /^\s*(\d+)\s*[:=-]\s*(.+?)\s*$/.exec(l)).filter((m) => m !== null).map((m) => ({ number: Number(m[1]), name: m[2]! }));

/** The body of a create (every given field) or an edit (only what changed). */
function bodyOf(spec: Spec, f: FormData, row: Row | null): { body: Record<string, unknown>; objects?: number[] } {
  const body: Record<string, unknown> = {};
  let objects: number[] | undefined;
  for (const fld of spec.fields) {
    if (row ? fld.edit === false : fld.create === 'never') continue;
    const raw = f.has(fld.name) ? field(f, fld.name) : null;
    let v: unknown;
    if (fld.kind === 'bool') v = raw === 'on';
    else if (fld.kind === 'number') v = raw === '' || raw === null ? (fld.name.endsWith('itude') ? null : undefined) : Number(raw);
    else if (fld.kind === 'zones') v = parseZones(raw ?? '');
    else if (fld.kind === 'ids') { objects = (raw ?? '').split(/[\s,]+/).filter(Boolean).map(Number); continue; }
    else v = raw === null ? undefined : raw;
    // An empty text is no value on a new record, nor for a field every record must have (a name, a host …).
    if (v === undefined || (v === '' && (!row || fld.kind === 'password' || fld.create === 'required' || fld.name === 'display_name'))) continue;
    if (row && JSON.stringify(fld.kind === 'zones' ? parseZones(zonesText(row[fld.name])) : row[fld.name] ?? (fld.kind === 'text' || fld.kind === 'textarea' ? '' : null)) === JSON.stringify(v)) continue;
    body[fld.name] = v;
  }
  return objects ? { body, objects } : { body };
}

function Input({ fld, row }: { fld: Field; row: Row | null }) {
  const v = row?.[fld.name];
  const required = !row && fld.create === 'required';
  const label = fld.kind === 'zones' && fld.name === 'zones' ? t('admin.zones') : fld.kind === 'ids' ? t('admin.assign') : fld.kind === 'password' && row ? t('admin.password') : fld.name;
  if (fld.kind === 'bool') return <label className="inline"><input type="checkbox" name={fld.name} defaultChecked={row ? Boolean(v) : fld.name === 'enabled'} /> {fld.name === 'disabled' ? t('admin.disabled') : fld.name}</label>;
  if (typeof fld.kind === 'object') return <label>{label} <select name={fld.name} defaultValue={text(v) || fld.kind.options[0]} required={required}>{fld.kind.options.map((o) => <option key={o}>{o}</option>)}</select></label>;
  if (fld.kind === 'textarea' || fld.kind === 'zones') return <label>{label} <textarea name={fld.name} rows={3} defaultValue={fld.kind === 'zones' ? zonesText(v) : text(v)} /></label>;
  const dv = fld.kind === 'ids' ? (Array.isArray(v) ? v.join(', ') : '') : fld.kind === 'password' ? '' : text(v);
  return <label>{label} <input name={fld.name} type={fld.kind === 'number' ? 'number' : fld.kind === 'password' ? 'password' : 'text'} step="any" defaultValue={dv} required={required} autoComplete="off" /></label>;
}

/** Objects, panels, sensors, recorders, users and their object assignments. */
export function Admin({ tab }: { tab: string }) {
  const role = useStore((s) => s.user?.role);
  const live = useStore((s) => s.link === 'live');
  const spec = SPECS.find((s) => s.path === tab) ?? SPECS[0]!;
  const [rows, setRows] = useState<Row[]>([]);
  const [editing, setEditing] = useState<Row | 'new' | null>(null);
  const reload = () => api<{ items: Row[] }>(spec.list).then((r) => setRows(r.items)).catch((e: Error) => toast(e.message));
  useEffect(() => { void reload(); }, [spec.path]);
  // Changes need the link: offline, the screens are read-only like the queue.
  const canWrite = role === 'ADMIN' && live;

  return (
    <section aria-labelledby="admin-title" className="admin">
      <h1 id="admin-title">{t('admin.title')}</h1>
      <nav aria-label={t('admin.title')} className="tabs">
        {SPECS.map((s) => <a key={s.path} href={`#/admin/${s.path}`} aria-current={s.path === spec.path ? 'page' : undefined}>{t(s.title)}</a>)}
      </nav>
      <h2>{t(spec.title)}</h2>
      {canWrite && <button type="button" onClick={() => setEditing('new')}>{t('admin.add')}</button>}
      <table className="plain" aria-label={t(spec.title)}>
        <thead><tr>{spec.columns.map((c) => <th key={c}>{c}</th>)}<th /></tr></thead>
        <tbody>{rows.map((r) => (
          <tr key={r.id}>{spec.columns.map((c) => <td key={c}>{text(r[c])}</td>)}
            <td>{canWrite && <button type="button" aria-label={`${t('admin.edit')} ${spec.path} ${r.id}`} onClick={() => setEditing(r)}>{t('admin.edit')}</button>}</td></tr>
        ))}</tbody>
      </table>
      {editing && (
        <Dialog title={`${t(spec.title)} — ${editing === 'new' ? t('admin.add') : `${t('admin.edit')} ${editing.id}`}`} submit={t('admin.save')} onClose={() => setEditing(null)}
          onSubmit={async (f) => {
            const row = editing === 'new' ? null : editing;
            const { body, objects } = bodyOf(spec, f, row);
            try {
              const saved = row
                ? (Object.keys(body).length ? await api<Row>(`/api/${spec.path}/${row.id}`, { method: 'PATCH', body }) : row)
                : await api<Row>(`/api/${spec.path}`, { method: 'POST', body });
              if (objects && JSON.stringify(objects) !== JSON.stringify(row?.objects ?? [])) await api(`/api/users/${saved.id}/objects`, { method: 'PUT', body: { objects } });
              toast(t('admin.saved'));
              setEditing(null);
              await reload();
            } catch (err) { toast(t('action.failed', { message: (err as Error).message })); }
          }}>
          {spec.fields.filter((fld) => (editing === 'new' ? fld.create !== 'never' : fld.edit !== false)).map((fld) => <Input key={fld.name} fld={fld} row={editing === 'new' ? null : editing} />)}
        </Dialog>
      )}
    </section>
  );
}
