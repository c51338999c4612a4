import type { Kafka } from 'kafkajs';
import {
  commandResult, createCommandConsumer, createCommandLedger, createResultReporter,
  type ClaimOutcome, type CommandConsumer, type CommandRecord, type DeliveredCommand, type HandleOutcome,
} from '../../../commands/index.ts';
import { SEALED, backoffMs, counter, createProducer, decryptSecret, histogram, sleep, type Logger, type Pool, type Producer } from '../../../platform/index.ts';
import type { CommandResult } from '../../../schemas/index.ts';
import type { PanelCommandPort } from './command-gate.ts';
import { executeCommand, settleInterrupted, type Outcome } from './command-executor.ts';
import type { UserCode } from '../protocol/index.ts';

const m = {
  executed: counter('stam_satel_commands_total', 'commands answered by this driver, by status and how', ['status', 'how']),
  seconds: histogram('stam_satel_command_seconds', 'command delivery → result reported', [], [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]),
};

interface DriverCommandsOptions {
  url: string;
  driverId: string;
  pool: Pool;
  kafka: Kafka;
  log: Logger;
  topicPrefix: string;
  quorum: boolean;
  /** A claim this old without an answer belongs to a driver that died with it (≥ the longest execution). */
  interruptedAfterMs: number;
  /** Opens `panels.user_code_enc` (platform secrets by default). */
  decrypt?: (sealed: Buffer) => string;
}

interface Held { port: PanelCommandPort; fencing: number; chain: Promise<unknown> }
/** `notSent`: the command never reached the link (the gate refused it), so the panel certainly did not get it. */
type Decided = Outcome & { notSent?: boolean };

class Expired extends Error {}

/**
 * The command side of the Satel driver: consumes the driver's command queue, runs each command for a
 * panel this driver holds through that panel's poller (one at a time, between polls), and reports one
 * result per command to `command.results.v1`. The execution ledger is consulted before anything reaches
 * the panel: a command is claimed before it is sent, and any later delivery of it is answered from the
 * ledger — so it runs once or never, and a crash between sending and answering is settled by read-back.
 */
export function createDriverCommands(opts: DriverCommandsOptions) {
  const { pool, driverId } = opts;
  const log = opts.log.child({ component: 'commands' });
  const decrypt = opts.decrypt ?? ((sealed: Buffer) => decryptSecret(sealed, SEALED.panelUserCode));
  const ledger = createCommandLedger(pool);
  const held = new Map<number, Held>();
  /** Commands this process is sending right now (a redelivered copy must wait for them, not settle them). */
  const executing = new Set<string>();
  const abort = new AbortController();
  let producer: Producer | undefined;
  let report: ((r: CommandResult) => Promise<void>) | undefined;

  async function userCodeFor(panelId: number): Promise<UserCode | string> {
    const { rows } = await pool.query<{ user_code_enc: Buffer | null }>('SELECT user_code_enc FROM panels WHERE id = $1', [panelId]);
    const sealed = rows[0]?.user_code_enc;
    // Never a default code: a panel without its own is refused (the demo seed stores the simulator's).
    if (!sealed) return 'no user code is stored for this panel: not executed';
    try {
      return { code: decrypt(sealed) };
    } catch (err) {
      // The error names the key ring entry at most, never the code.
      return `the panel's user code cannot be decrypted (${(err as { code?: string }).code ?? 'error'}): not executed`;
    }
  }

  /** Another driver's claim without an answer: wait until it must be dead, then settle by read-back (never resend). */
  async function awaitInterrupted(o: Extract<ClaimOutcome, { kind: 'interrupted' }>): Promise<CommandResult | undefined> {
    for (;;) {
      const e = await ledger.read(o.record.command_id);
      if (e?.result) return e.result;
      if (abort.signal.aborted) throw new Error('driver stopping: the interrupted command stays queued');
      if (Date.now() >= o.startedAt + opts.interruptedAfterMs) return undefined;
      await sleep(Math.min(250, o.startedAt + opts.interruptedAfterMs - Date.now()), abort.signal);
    }
  }

  async function outcomeFor(claim: ClaimOutcome & { record: CommandRecord }, h: Held, deadline: number): Promise<Decided> {
    const spec = { action: claim.record.action, params: claim.record.params };
    if (claim.kind === 'expired') return { status: 'EXPIRED', reason: `expired before the driver could execute it (deadline ${new Date(deadline).toISOString()}); never sent`, panelResultCode: null };
    if (claim.kind === 'interrupted') {
      return h.port.submit((request) => settleInterrupted(request, spec))
        .catch((err: Error) => ({ status: 'FAILED' as const, reason: `interrupted; outcome unknown, not repeated (${err.message})`, panelResultCode: null }));
    }
    const code = await userCodeFor(claim.record.panel_id);
    if (typeof code === 'string') return { status: 'FAILED', reason: code, panelResultCode: null };
    try {
      return await h.port.submit((request) => executeCommand(request, spec, code, {
        beforeSend: () => { if (Date.now() >= Math.min(deadline, claim.record.expires_at)) throw new Expired(); },
      }));
    } catch (err) {
      if (err instanceof Expired) return { status: 'EXPIRED', reason: 'expired while waiting for the panel link; never sent', panelResultCode: null };
      const notSent = (err as { details?: { sent?: boolean } }).details?.sent === false;
      return { status: 'FAILED', reason: (err as Error).message, panelResultCode: null, notSent };
    }
  }

  async function reportUntilDone(r: CommandResult): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await report!(r);
        return;
      } catch (err) {
        if (abort.signal.aborted) throw err; // stays unacknowledged: answered from the ledger on redelivery
        log.warn({ command: r.command_id, err: (err as Error).message, attempt }, 'command result not produced yet; retrying');
        await sleep(backoffMs(attempt, 200, 5_000), abort.signal);
      }
    }
  }

  async function run(d: DeliveredCommand, h: Held): Promise<HandleOutcome> {
    const started = performance.now();
    const { cmd } = d;
    if (held.get(cmd.panel_id) !== h) return 'not-held'; // the lease moved while it waited: to the new holder
    let claim = await ledger.claim({ commandId: cmd.command_id, panelId: cmd.panel_id, driverId, fencing: h.fencing, expiredHere: Date.now() >= d.deadline });
    const how: string = claim.kind;
    if (claim.kind === 'unknown' || claim.kind === 'closed') {
      m.executed.inc({ status: 'none', how });
      log[claim.kind === 'unknown' ? 'error' : 'info']({ command: cmd.command_id, panel: cmd.panel_id, ...(claim.kind === 'closed' ? { status: claim.status } : {}) },
        claim.kind === 'unknown' ? 'command unknown to the database (forged or foreign message): not executed' : 'command already closed: nothing to do');
      return 'done';
    }
    // Claimed by another driver, or by this process and still running: wait for its answer, or until it must be
    // dead. Claimed under this driver id but not running here: a previous incarnation, dead for sure.
    if (claim.kind === 'interrupted' && (claim.driverId !== driverId || executing.has(cmd.command_id))) {
      const answered = await awaitInterrupted(claim);
      if (answered) claim = { kind: 'answered', result: answered };
    }
    let result: CommandResult | undefined;
    if (claim.kind === 'answered') {
      result = claim.result;
    } else {
      const mine = claim.kind === 'claimed';
      if (mine) executing.add(cmd.command_id);
      try {
        const o = await outcomeFor(claim, h, d.deadline);
        // The panel moved away (lease lost, driver stopping) before this command's turn: give it to the new holder.
        if (o.notSent && mine && held.get(cmd.panel_id) !== h && await ledger.release(cmd.command_id, driverId)) {
          log.info({ command: cmd.command_id, panel: cmd.panel_id }, 'panel let go before the command was sent: handed on');
          return 'not-held';
        }
        result = await ledger.settle(commandResult({ ...claim.record, trace: cmd.trace }, o.status, o.reason, o.panelResultCode), driverId);
      } finally {
        if (mine) executing.delete(cmd.command_id);
      }
      if (!result) throw new Error(`command ${cmd.command_id} vanished from the database while executing`);
    }
    await reportUntilDone(result);
    m.executed.inc({ status: result.status, how });
    m.seconds.observe((performance.now() - started) / 1000);
    log.info({ command: cmd.command_id, panel: cmd.panel_id, action: cmd.action, status: result.status, reason: result.reason, how, redelivered: d.redelivered }, 'command answered');
    return 'done';
  }

  const consumer: CommandConsumer = createCommandConsumer({
    url: opts.url, driverId, log, quorum: opts.quorum,
    holds: (panelId) => held.has(panelId),
    handle: (d) => {
      const h = held.get(d.cmd.panel_id);
      if (!h) return Promise.resolve('not-held');
      // One command per panel at a time, in arrival order; panels run in parallel.
      const p = h.chain.then(() => run(d, h));
      h.chain = p.catch(() => undefined);
      return p;
    },
  });

  return {
    consumer,
    async start(): Promise<void> {
      producer = await createProducer(opts.kafka);
      report = createResultReporter(producer, opts.topicPrefix);
      await consumer.start();
    },
    /** The driver took panel `panelId` (lease or start-up): route its commands here, through `port`. */
    async attach(panelId: number, port: PanelCommandPort, fencing: number): Promise<void> {
      held.set(panelId, { port, fencing, chain: Promise.resolve() });
      await consumer.bind(panelId);
    },
    /** The driver let go of the panel: no new commands; one in progress ends with the link. */
    async detach(panelId: number): Promise<void> {
      held.delete(panelId);
      await consumer.unbind(panelId);
    },
    async stop(): Promise<void> {
      abort.abort();
      await consumer.stop();
      await producer?.disconnect();
    },
  };
}

export type DriverCommands = ReturnType<typeof createDriverCommands>;
