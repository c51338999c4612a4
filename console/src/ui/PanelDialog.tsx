import { useState } from 'react';
import { api } from '../api.ts';
import { PANEL_ACTIONS } from '../queue.ts';
import { t, toast } from '../store.ts';
import { expectCommand } from '../sync.ts';
import { Dialog } from './Dialog.tsx';
import { field } from './form.ts';

/** Arm / disarm / clear a panel's partitions, with the mode and the audited reason; the outcome arrives as `command.result`. */
export function PanelDialog({ panelId, partitions, alarmId, onClose }: { panelId: number; partitions: { number: number; name: string }[]; alarmId: number; onClose: () => void }) {
  const [action, setAction] = useState<string>('arm');
  const [busy, setBusy] = useState(false);
  const list = partitions.length ? partitions : [1, 2, 3, 4].map((n) => ({ number: n, name: '' }));
  return (
    <Dialog title={t('cmd.title', { panel: panelId })} submit={t('cmd.send')} busy={busy} onClose={onClose}
      onSubmit={async (f) => {
        const parts = f.getAll('partition').map(Number);
        if (parts.length === 0 && action !== 'clear_alarm') return;
        setBusy(true);
        const label = t(`cmd.${action}` as 'cmd.arm');
        try {
          const r = await api<{ command_id: string }>(`/api/panels/${panelId}/commands`, {
            method: 'POST',
            body: { action, ...(parts.length ? { partitions: parts } : {}), ...(action.endsWith('arm') && action !== 'disarm' ? { mode: Number(f.get('mode') ?? 0) } : {}), reason: field(f, 'reason').trim() },
          });
          expectCommand(r.command_id, { action, panel: panelId });
          toast(t('cmd.waiting', { action: label, panel: panelId }));
          onClose();
        } catch (err) {
          toast(t('cmd.refused', { action: label, message: (err as Error).message }));
          setBusy(false);
        }
      }}>
      <label>{t('cmd.action')}
        <select name="action" value={action} onChange={(e) => setAction(e.target.value)}>
          {PANEL_ACTIONS.map((a) => <option key={a} value={a}>{t(`cmd.${a}`)}</option>)}
        </select>
      </label>
      <fieldset>
        <legend>{t('cmd.partitions')}</legend>
        {list.map((p) => <label key={p.number} className="inline"><input type="checkbox" name="partition" value={p.number} defaultChecked={p.number === 1} /> {p.number}{p.name ? ` — ${p.name}` : ''}</label>)}
      </fieldset>
      {(action === 'arm' || action === 'force_arm') && (
        <label>{t('cmd.mode')}
          <select name="mode" defaultValue="0">{[0, 1, 2, 3].map((m) => <option key={m} value={m}>{m}</option>)}</select>
        </label>
      )}
      <label>{t('cmd.reason')}
        <input name="reason" required minLength={3} maxLength={500} defaultValue={`alarm #${alarmId}`} />
      </label>
    </Dialog>
  );
}
