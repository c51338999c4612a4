import { commandResult, createCommandLedger, recordCommandResult, type CommandAction } from '../commands/index.ts';
import { counter, inTransaction, type Logger, type Pool } from '../platform/index.ts';

const m = {
  swept: counter('stam_commands_swept_total', 'pending commands ended by the sweeper, by status', ['status']),
};

export interface CommandSweeperOptions {
  pool: Pool;
  log: Logger;
  /** A command still PENDING this long after its expiry gets no answer from anyone else any more. */
  graceMs: number;
  intervalMs: number;
  batch?: number;
}

/**
 * The last line of "always answered": a command still PENDING `graceMs` after its expiry (its result was
 * lost, its driver died with it, RabbitMQ dropped it) is ended here. The execution ledger decides what:
 * a result already recorded there (reported, but its report never arrived) is used; a claim without one is
 * an interrupted execution (FAILED, outcome unknown, never repeated); no claim at all means nobody
 * answered (FAILED). Each is written like any result: first one wins, outbox row, audit row.
 */
export function createCommandSweeper(opts: CommandSweeperOptions) {
  const { pool, log } = opts;
  const ledger = createCommandLedger(pool);
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | undefined;

  async function sweepOnce(): Promise<number> {
    const { rows } = await pool.query<{ id: string; panel_id: number; action: CommandAction; driver_id: string | null; started_at: string | null }>(
      `SELECT c.id, c.panel_id, c.action, e.driver_id, e.started_at::text
         FROM commands c LEFT JOIN command_executions e ON e.command_id = c.id
        WHERE c.status = 'PENDING' AND c.expires_at < now() - make_interval(secs => $1) ORDER BY c.expires_at LIMIT $2`,
      [opts.graceMs / 1000, opts.batch ?? 200],
    );
    for (const r of rows) {
      const reason = r.driver_id === null
        ? 'no answer from any driver by the expiry (+ grace): failed by the sweeper'
        : `interrupted: driver ${r.driver_id} took the command at ${r.started_at ?? '?'} and never answered; outcome unknown, not repeated`;
      const winner = await inTransaction(pool, async (db) => {
        const w = await ledger.settle(commandResult({ command_id: r.id, panel_id: r.panel_id, action: r.action, trace: null }, 'FAILED', reason), 'sweeper', db);
        if (w) await recordCommandResult(db, w, 'sweeper');
        return w;
      });
      if (winner) {
        m.swept.inc({ status: winner.status });
        log.warn({ command: r.id, panel: r.panel_id, status: winner.status, reason: winner.reason }, 'unanswered command ended by the sweeper');
      }
    }
    return rows.length;
  }

  return {
    sweepOnce,
    start(): void {
      timer = setInterval(() => {
        if (running) return;
        running = sweepOnce().catch((err: Error) => { log.warn({ err: err.message }, 'command sweep failed'); return 0; }).finally(() => { running = undefined; });
      }, opts.intervalMs);
      timer.unref();
    },
    async stop(): Promise<void> {
      clearInterval(timer);
      await running;
    },
  };
}

export type CommandSweeper = ReturnType<typeof createCommandSweeper>;
