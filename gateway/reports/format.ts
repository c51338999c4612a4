/**
 * Report output: CSV streamed row by row from the database cursor (a year of rows is never held in
 * memory), and a PDF with the same figures and a bar chart (pdfkit, with DejaVu Sans so Polish names print).
 */
import { createRequire } from 'node:module';
import { PassThrough, Transform, pipeline, type Readable } from 'node:stream';
import PDFDocument from 'pdfkit';
import type { DatabasePool, QuerySqlToken } from 'slonik';
import type { ZodTypeAny } from 'zod';

export interface Column<R> { header: string; value: (row: R) => string | number | null }

/** RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled. */
export function csvField(v: string | number | null): string {
  if (v === null) return '';
  const s = typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(3)) : v;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export const csvLine = <R>(columns: readonly Column<R>[], row: R): string => `${columns.map((c) => csvField(c.value(row))).join(',')}\r\n`;

/**
 * The query's rows as CSV, streamed: header first, then each row as the cursor delivers it, with the
 * cursor paused while the client is slow (pipe backpressure). A database error ends the body early (the
 * client sees a truncated download, never a silently partial one: the error is logged by the caller).
 */
export function csvStream<T extends ZodTypeAny, R>(
  db: DatabasePool, query: QuerySqlToken<T>, columns: readonly Column<R>[], toRow: (raw: Record<string, unknown>) => R, onError: (err: Error) => void,
): Readable {
  const out = new PassThrough();
  out.write(`${columns.map((c) => csvField(c.header)).join(',')}\r\n`);
  const toCsv = new Transform({
    writableObjectMode: true,
    transform(chunk: { data: Record<string, unknown> }, _enc, done) {
      try { done(null, csvLine(columns, toRow(chunk.data))); } catch (err) { done(err as Error); }
    },
  });
  let failed = false;
  const fail = (err: Error) => {
    if (failed) return;
    failed = true;
    onError(err);
    out.destroy(err);
  };
  // pipeline destroys every stage when one fails or the client goes away, so the cursor and its connection are released.
  void db.stream(query, (rows) => { pipeline(rows, toCsv, out, (err) => { if (err) fail(err); }); }).catch(fail);
  return out;
}

const require = createRequire(import.meta.url);
const FONT = require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans.ttf');
const FONT_BOLD = require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans-Bold.ttf');

export interface PdfReport<R> {
  title: string;
  /** Lines under the title: range, filters, which database answered. */
  subtitle: string[];
  columns: readonly Column<R>[];
  rows: readonly R[];
  chart: { label: string; key: (row: R) => string; value: (row: R) => number };
  /** Extra sections (e.g. the exceptions list) as their own small tables. */
  sections?: { title: string; columns: readonly Column<Record<string, unknown>>[]; rows: readonly Record<string, unknown>[] }[];
}

const cell = (v: string | number | null) => (v === null ? '–' : typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(1)) : v);

/** The report as a PDF document (A4 landscape): title, the figures as a table, a bar chart of one figure. */
export async function pdfBuffer<R>(r: PdfReport<R>): Promise<Buffer> {
  const doc = new PDFDocument({ size: 'A4', layout: 'landscape', margin: 36, info: { Title: r.title, Producer: 'stam-replacer' } });
  const chunks: Buffer[] = [];
  doc.on('data', (b: Buffer) => chunks.push(b));
  const done = new Promise<Buffer>((resolve, reject) => { doc.on('end', () => resolve(Buffer.concat(chunks))); doc.on('error', reject); });
  doc.registerFont('body', FONT).registerFont('bold', FONT_BOLD);
  doc.font('bold').fontSize(16).text(r.title);
  doc.font('body').fontSize(9).fillColor('#444');
  for (const line of r.subtitle) doc.text(line);
  doc.moveDown().fillColor('black');
  table(doc, r.columns, r.rows);
  for (const s of r.sections ?? []) {
    doc.moveDown().font('bold').fontSize(11).text(s.title).font('body');
    table(doc, s.columns, s.rows);
  }
  chart(doc, r);
  doc.end();
  return done;
}

function table<R>(doc: PDFKit.PDFDocument, columns: readonly Column<R>[], rows: readonly R[]): void {
  const width = doc.page.width - doc.page.margins.left - doc.page.margins.right;
  const colW = width / Math.max(1, columns.length);
  const row = (values: string[], bold: boolean) => {
    if (doc.y > doc.page.height - doc.page.margins.bottom - 20) doc.addPage();
    const y = doc.y;
    doc.font(bold ? 'bold' : 'body').fontSize(7.5);
    values.forEach((v, i) => doc.text(v, doc.page.margins.left + i * colW, y, { width: colW - 4, lineBreak: false, ellipsis: true }));
    doc.x = doc.page.margins.left;
    doc.y = y + 12;
  };
  row(columns.map((c) => c.header), true);
  for (const r of rows) row(columns.map((c) => cell(c.value(r))), false);
  if (rows.length === 0) row(['(no data in the range)'], false);
}

function chart<R>(doc: PDFKit.PDFDocument, r: PdfReport<R>): void {
  const bars = r.rows.slice(0, 40);
  if (bars.length === 0) return;
  doc.addPage();
  doc.font('bold').fontSize(12).text(`${r.title}: ${r.chart.label}`);
  const left = doc.page.margins.left + 150;
  const top = doc.y + 10;
  const width = doc.page.width - left - doc.page.margins.right - 60;
  const barH = Math.min(14, (doc.page.height - top - doc.page.margins.bottom) / bars.length - 2);
  const max = Math.max(1e-9, ...bars.map(r.chart.value));
  doc.font('body').fontSize(Math.max(5, Math.min(8, barH - 2)));
  bars.forEach((row, i) => {
    const y = top + i * (barH + 2);
    const v = r.chart.value(row);
    doc.fillColor('black').text(r.chart.key(row), doc.page.margins.left, y + 1, { width: 145, lineBreak: false, ellipsis: true });
    doc.rect(left, y, Math.max(0.5, (v / max) * width), barH).fill('#2b6cb0');
    doc.fillColor('black').text(cell(v), left + (v / max) * width + 4, y + 1, { lineBreak: false });
  });
}
