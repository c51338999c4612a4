/**
 * A one-line progress bar on stderr while a run goes (redrawn in place on a terminal, a line every few
 * seconds otherwise): phase, events generated and received, consumer lag, outbox backlog, elapsed time.
 */
export interface ProgressState {
  phase: string;
  total: number;
  generated: number;
  received: number;
  lag: number | null;
  backlog: number | null;
}

export function progressLine(s: ProgressState, elapsedS: number, width = 24): string {
  const frac = s.total > 0 ? Math.min(1, s.received / s.total) : 0;
  const filled = Math.round(frac * width);
  const n = (v: number | null): string => (v === null ? '–' : v.toLocaleString('en-US'));
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.round(frac * 100)).padStart(3)}% ${s.phase.padEnd(9)} `
    + `sent ${n(s.generated)}/${n(s.total)} received ${n(s.received)} lag ${n(s.lag)} backlog ${n(s.backlog)} ${Math.round(elapsedS)}s`;
}

export function createProgress(enabled: boolean, stream: NodeJS.WriteStream = process.stderr) {
  const t0 = Date.now();
  let lastPrint = 0;
  return {
    update(s: ProgressState): void {
      if (!enabled) return;
      const line = progressLine(s, (Date.now() - t0) / 1000);
      if (stream.isTTY) stream.write(`\r\x1b[2K${line}`);
      else if (Date.now() - lastPrint >= 5_000) { stream.write(`${line}\n`); lastPrint = Date.now(); }
    },
    done(): void {
      if (enabled && stream.isTTY) stream.write('\n');
    },
  };
}
