import { StamError } from '../../../platform/index.ts';
import type { Message } from '../protocol/index.ts';

export type PanelRequest = (msg: Message) => Promise<Message>;

/** What the command executor sees of a panel link: whole commands run between two polls, one at a time. */
export interface PanelCommandPort {
  /** Runs `job` on the link between two poll cycles; rejects with E_SATEL_LINK when there is no link. */
  submit<T>(job: (request: PanelRequest) => Promise<T>): Promise<T>;
}

interface Job { run: (request: PanelRequest) => Promise<void>; fail: (err: Error) => void }

/**
 * The poller's side of the port. The poller opens the gate when its link is up, runs `runPending()`
 * between poll cycles (a submitted command calls `onSubmit`, which wakes the poller's wait, so a command
 * does not wait a whole poll interval) and closes the gate when the link ends; a command waiting for a
 * closed gate, or submitted to one, fails with E_SATEL_LINK at once ("no link to the panel"). Before the
 * poller's first link (a driver just started or took the panel over) commands wait for it, and fail when
 * that first attempt fails.
 */
export function createCommandGate(opts: { onSubmit?: () => void } = {}): PanelCommandPort & {
  open(request: PanelRequest): void;
  close(reason: string): void;
  readonly isOpen: boolean;
  /** Commands waiting for the next gap between polls. */
  readonly pending: number;
  runPending(): Promise<void>;
} {
  let request: PanelRequest | undefined;
  /** Set while the link is down; unset before the first link (commands wait) and while it is up. */
  let closedReason: string | undefined;
  const queue: Job[] = [];

  const noLink = () => new StamError('E_SATEL_LINK', `no link to the panel: ${closedReason ?? 'closed'}`, { details: { sent: false } });

  return {
    get isOpen() { return request !== undefined; },
    get pending() { return queue.length; },
    open(r) { request = r; closedReason = undefined; },
    close(reason) {
      request = undefined;
      closedReason = reason;
      for (const job of queue.splice(0)) job.fail(noLink());
    },
    submit<T>(job: (request: PanelRequest) => Promise<T>): Promise<T> {
      if (closedReason !== undefined) return Promise.reject(noLink());
      return new Promise<T>((resolve, reject) => {
        queue.push({ run: (req) => job(req).then(resolve, reject), fail: reject });
        if (request) opts.onSubmit?.();
      });
    },
    async runPending() {
      while (queue.length > 0 && request) {
        const job = queue.shift()!;
        await job.run(request);
      }
    },
  };
}

export type CommandGate = ReturnType<typeof createCommandGate>;
