/** A form field's text ('' when absent or a file). */
export function field(f: FormData, name: string): string {
  const v = f.get(name);
  return typeof v === 'string' ? v : '';
}

/** A value from the API as table text: numbers and strings as they are, lists joined, nothing else. */
export function text(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return v.map(text).join(', ');
  return '';
}
