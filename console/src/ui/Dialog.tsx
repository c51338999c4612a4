import { useEffect, useId, useRef, type FormEvent, type ReactNode } from 'react';
import { t } from '../store.ts';

/** A modal dialog (the native <dialog>: focus moves in and is trapped, Esc closes), with a form and its buttons. */
export function Dialog(props: { title: string; submit: string; onSubmit: (form: FormData) => Promise<void> | void; onClose: () => void; children: ReactNode; busy?: boolean }) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
    return () => d?.close();
  }, []);
  const submit = (ev: FormEvent<HTMLFormElement>) => {
    ev.preventDefault();
    void props.onSubmit(new FormData(ev.currentTarget));
  };
  return (
    <dialog ref={ref} aria-labelledby={titleId} onClose={props.onClose} onCancel={props.onClose}>
      <form onSubmit={submit} className="dialog-form">
        <h2 id={titleId}>{props.title}</h2>
        {props.children}
        <div className="buttons">
          <button type="button" onClick={props.onClose}>{t('action.cancel')}</button>
          <button type="submit" className="primary" disabled={props.busy}>{props.submit}</button>
        </div>
      </form>
    </dialog>
  );
}
