import { EventEmitter } from 'node:events';
import { Socket } from 'node:net';
import { StamError } from './errors.ts';
import { encodeFrame, FrameParser, type FrameEvent } from './frame.ts';
import type { Message } from './types.ts';

const RESULT_CMD = 0xef;

export interface ConnectionOptions {
  host: string;
  port: number;
  connectTimeoutMs?: number;
  answerTimeoutMs?: number;
}

interface Pending { cmd: number; resolve: (m: Message) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }

/**
 * One TCP link to an ETHM-1 module. Requests are strictly one at a time (the module answers each before
 * the next may be sent); an answer is the same command or a 0xEF result. Anything else that arrives is
 * 'unsolicited' (monitoring mode pushes). Frame errors are emitted as 'frameError' and never end the link.
 * Events: 'frameError' (FrameEvent), 'unsolicited' (Message), 'close' (reason string).
 */
export class PanelConnection extends EventEmitter {
  private readonly socket = new Socket();
  private readonly parser = new FrameParser();
  private queue: Promise<unknown> = Promise.resolve();
  private pending: Pending | undefined;
  private closedReason: string | undefined;
  framesIn = 0;
  framesOut = 0;

  constructor(private readonly opts: ConnectionOptions) {
    super();
    this.socket.setNoDelay(true);
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('error', (err) => this.fail(`socket error: ${err.message}`));
    this.socket.on('close', () => this.fail('connection closed by the module'));
  }

  get closed(): boolean { return this.closedReason !== undefined; }

  connect(): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.socket.destroy();
        reject(new StamError('E_SATEL_LINK', `connect to ${this.opts.host}:${this.opts.port} timed out`));
      }, this.opts.connectTimeoutMs ?? 5_000);
      this.socket.once('connect', () => { clearTimeout(timer); resolve(); });
      this.socket.once('error', (err) => { clearTimeout(timer); reject(new StamError('E_SATEL_LINK', `connect to ${this.opts.host}:${this.opts.port}: ${err.message}`, { cause: err })); });
      this.socket.connect(this.opts.port, this.opts.host);
    });
  }

  /** Sends one command and resolves with its answer (same cmd, or 0xEF for control commands). */
  request(msg: Message): Promise<Message> {
    const run = () => new Promise<Message>((resolve, reject) => {
      if (this.closedReason) { reject(new StamError('E_SATEL_LINK', this.closedReason)); return; }
      const timer = setTimeout(() => {
        this.pending = undefined;
        reject(new StamError('E_SATEL_TIMEOUT', `no answer to 0x${msg.cmd.toString(16).padStart(2, '0')} within ${this.opts.answerTimeoutMs ?? 3000} ms`));
      }, this.opts.answerTimeoutMs ?? 3_000);
      this.pending = { cmd: msg.cmd, resolve, reject, timer };
      this.framesOut++;
      this.socket.write(encodeFrame(msg.cmd, msg.data));
    });
    const p = this.queue.then(run, run);
    this.queue = p.catch(() => undefined);
    return p;
  }

  close(reason = 'closed by driver'): void {
    this.fail(reason);
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    for (const ev of this.parser.push(chunk)) this.onFrameEvent(ev);
  }

  private onFrameEvent(ev: FrameEvent): void {
    if (ev.type === 'error') { this.emit('frameError', ev); return; }
    const p = this.pending;
    if (ev.type === 'busy') {
      if (p) this.settle(p, undefined, new StamError('E_SATEL_BUSY', 'module answered Busy (another client, or a command sent too early)'));
      else this.emit('frameError', { type: 'error', code: 'E_SATEL_FRAME', reason: 'unsolicited Busy', bytes: 0 });
      return;
    }
    this.framesIn++;
    const msg: Message = { cmd: ev.cmd, data: ev.data };
    if (p && (ev.cmd === p.cmd || ev.cmd === RESULT_CMD)) this.settle(p, msg);
    else this.emit('unsolicited', msg);
  }

  private settle(p: Pending, msg?: Message, err?: Error): void {
    clearTimeout(p.timer);
    this.pending = undefined;
    if (err) p.reject(err);
    else p.resolve(msg!);
  }

  private fail(reason: string): void {
    if (this.closedReason) return;
    this.closedReason = reason;
    if (this.pending) this.settle(this.pending, undefined, new StamError('E_SATEL_LINK', reason));
    this.emit('close', reason);
  }
}
