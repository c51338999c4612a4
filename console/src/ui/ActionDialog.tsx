import { useState } from 'react';
import { RESOLUTION_CODES, type Act, type Alarm } from '../queue.ts';
import { t } from '../store.ts';
import { NOTE_REQUIRED, runAction } from './actions.ts';
import { Dialog } from './Dialog.tsx';
import { field } from './form.ts';

/** Acknowledge / resolve / close / take over, with the note (required where asked) and the resolution code. */
export function ActionDialog({ alarm, act, onClose }: { alarm: Alarm; act: Act; onClose: () => void }) {
  const [busy, setBusy] = useState(false);
  const required = NOTE_REQUIRED.has(act);
  return (
    <Dialog title={`${t(`action.${act}`)} — ${t('detail.title', { id: alarm.alarm_id })}`} submit={t(`action.${act}`)} busy={busy} onClose={onClose}
      onSubmit={async (f) => {
        setBusy(true);
        const note = field(f, 'note').trim();
        const code = field(f, 'resolution_code');
        const ok = await runAction(alarm, act, { ...(note ? { note } : {}), ...(act === 'resolve' ? { resolution_code: code } : {}) });
        setBusy(false);
        if (ok) onClose();
      }}>
      {act === 'resolve' && (
        <label>{t('action.resolution')}
          <select name="resolution_code" required defaultValue="FALSE_ALARM">
            {RESOLUTION_CODES.map((c) => <option key={c} value={c}>{t(`resolution.${c}`)}</option>)}
          </select>
        </label>
      )}
      <label>{required ? t('action.noteRequired') : t('action.note')}
        <textarea name="note" rows={3} required={required} minLength={required ? 3 : undefined} maxLength={2000} autoFocus />
      </label>
    </Dialog>
  );
}
