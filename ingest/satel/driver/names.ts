/**
 * Partition and zone names read from the panel itself (0xEE), for panels the centre has no names for,
 * so that operators see "2 — Main entrance" instead of a bare number. Names configured in the centre
 * always win: the driver reads only while the panel has no zone names stored, and what it stores never
 * replaces a row (ON CONFLICT DO NOTHING).
 */
import { inTransaction, type Pool } from '../../../platform/index.ts';
import { Cmd, decodeDeviceName, DeviceType, encodeDeviceNameRequest, protocolError, type Message } from '../protocol/index.ts';

interface NamedDevice { number: number; name: string }
export interface PanelNames { partitions: NamedDevice[]; zones: NamedDevice[] }

export interface NameReader {
  readonly done: boolean;
  /** Requests sent so far. */
  readonly requests: number;
  /** Sends at most `max` 0xEE requests, each only while `budget()` allows. */
  step(request: (msg: Message) => Promise<Message>, budget: () => boolean, max: number): Promise<void>;
  result(): PanelNames;
}

/**
 * Walks partitions 1..`partitions` then zones 1..`zones`. A device the panel does not have is answered
 * with a result frame (0xEF) and skipped, as is an empty name.
 */
export function createNameReader(opts: { partitions: number; zones: number }): NameReader {
  const queue: { type: typeof DeviceType.partition | typeof DeviceType.zone; number: number }[] = [
    ...Array.from({ length: opts.partitions }, (_, i) => ({ type: DeviceType.partition, number: i + 1 })),
    ...Array.from({ length: opts.zones }, (_, i) => ({ type: DeviceType.zone, number: i + 1 })),
  ];
  const names: PanelNames = { partitions: [], zones: [] };
  let requests = 0;
  return {
    get done() { return queue.length === 0; },
    get requests() { return requests; },
    async step(request, budget, max) {
      for (let i = 0; i < max && queue.length > 0 && budget(); i++) {
        const next = queue[0]!;
        const answer = await request(encodeDeviceNameRequest(next.type, next.number));
        requests++;
        queue.shift();
        if (answer.cmd === Cmd.result) continue; // no such partition or zone on this panel
        const d = decodeDeviceName(answer);
        if (d.type !== next.type || d.number !== next.number) {
          throw protocolError(`0xEE answer for type ${d.type} number ${d.number} while type ${next.type} number ${next.number} was asked`);
        }
        if (d.name === '') continue;
        (next.type === DeviceType.zone ? names.zones : names.partitions).push({ number: d.number, name: d.name });
      }
    },
    result: () => names,
  };
}

interface NameStore {
  /** Stores names where the panel has none yet; returns how many rows were added. */
  save(panelId: number, names: PanelNames): Promise<number>;
}

export function createNameStore(pool: Pool): NameStore {
  return {
    save: (panelId, names) => inTransaction(pool, async (db) => {
      let added = 0;
      for (const [table, list] of [['partitions', names.partitions], ['zones', names.zones]] as const) {
        if (list.length === 0) continue;
        const { rowCount } = await db.query(
          `INSERT INTO ${table} (panel_id, number, name) SELECT $1, n, name FROM unnest($2::int[], $3::text[]) AS x(n, name)
           ON CONFLICT (panel_id, number) DO NOTHING`,
          [panelId, list.map((d) => d.number), list.map((d) => d.name)]);
        added += rowCount ?? 0;
      }
      return added;
    }),
  };
}
