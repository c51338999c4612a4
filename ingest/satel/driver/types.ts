/** What a panel poller is given and what it reports: shared by its parts (poller, session, supervision, reconnect). */
import type { Logger } from '../../../platform/index.ts';
import type { PanelLink, SatelEvent, Trace } from '../../../schemas/index.ts';
import type { CursorStore } from './cursor.ts';
import type { LogCursor } from './log-reader.ts';
import type { PanelNames } from './names.ts';

export interface PanelTarget {
  id: number; host: string; port: number; model: string; integrationKey?: string | undefined;
  /** The centre has no zone names for this panel: read them from the panel (0xEE). */
  namesMissing?: boolean | undefined;
}

export interface PollerDeps {
  log: Logger;
  pollIntervalMs: number;
  answerTimeoutMs: number;
  connectTimeoutMs: number;
  keepAliveMs: number;
  /** Read the log at least this often even without a state flag (0: every poll). */
  logSweepMs: number;
  logCatchUpMax: number;
  /** Most log lines of one kind per panel per minute (bad input must not flood the log). */
  logLinesPerMinute: number;
  /** Ask modules that offer it to push changes (monitoring mode). */
  monitoring: boolean;
  /**
   * Shared by every panel of the driver: true when a push may bring a log read forward now. When the
   * budget is spent (a storm on many panels), pushed records wait for the next poll, which reads many
   * records per cycle for less work; otherwise pushes would cost more round trips than polling saves.
   */
  pushReadBudget?: () => boolean;
  /** Link loss longer than this is produced as LOST. */
  supervisionMs: number;
  /** The lease fencing number, fixed for this poller's lifetime. */
  fencing: number;
  /** Throws E_SATEL_LEASE when this driver may no longer act for the panel. */
  checkLease: () => void;
  /** Each resolves only after the broker acknowledged. */
  produce: (events: SatelEvent[]) => Promise<void>;
  produceLink: (link: PanelLink) => Promise<void>;
  cursors: CursorStore;
  /**
   * `panel:{id}:state` (hash fields). `announce`: tell operators (the gateway pushes panel.state) — for
   * what they are shown: arming, partition alarms and the link, not every zone that a person walks past.
   */
  live: { load(): Promise<Record<string, string>>; save(fields: Record<string, string>, announce?: boolean): Promise<void> };
  /** Event texts (0x8F) by language, code and restore flag, shared by all pollers. */
  texts: Map<string, string | null>;
  traces?: ((port: number, indices: readonly number[]) => Promise<(Trace | null)[]>) | undefined;
  /**
   * Reading zone and partition names from panels without names: `budget` is shared by the driver (name
   * reads per second across all panels), `save` stores what was read. Absent: names are not read.
   */
  names?: { budget: () => boolean; save(panelId: number, names: PanelNames): Promise<number> } | undefined;
  random?: () => number;
}

export interface PollerStatus {
  panelId: number;
  state: 'starting' | 'connecting' | 'up' | 'backoff' | 'stopped' | 'lease-lost';
  fencing: number;
  connects: number;
  polls: number;
  lastPollAt: number | null;
  /** Why the link last failed (kept after a reconnect; null if it never failed). */
  lastError: string | null;
  cursor: LogCursor | null;
  pendingRecords: number;
  gaps: number;
  extended: boolean;
  /** The module pushes changes (monitoring mode accepted on the current link). */
  monitoring: boolean;
  /** Log reads a push brought forward (between polls). */
  pushReads: number;
}

/** Writes `panel:{id}:state` fields (best effort: a Redis failure is logged, never thrown). */
export type SaveLive = (fields: Record<string, string>, announce?: boolean) => Promise<void>;

export const codeOf = (err: unknown): string => (err as { code?: string }).code ?? 'E_SATEL_LINK';
