/**
 * The behaviour of an INTEGRA panel over its state: zones going violated, into alarm or tamper,
 * partitions arming (with exit time) and disarming, outputs, bypasses and troubles. Every change writes
 * event-log records with the class and code a real panel would use. Pure: time comes from `clock`, exit
 * times complete in `tick()`, nothing here touches a socket or a timer.
 */
import { createEventLog, type EventLog, type LogRecord, type Trace } from './event-log.ts';
import {
  EVENT_CODES, MODULES, OUTPUTS_CMD, PANEL_MODELS, PARTITION_CMD, RESULT, TROUBLES, TROUBLE_MEMORY_CMD, ZONE_CMD,
  type EventCodeName, type ModuleName, type PanelModelName, type TroubleName,
} from './models.ts';
import { createStateStore, type StateStore } from './panel-state.ts';

type PanelUser = { number: number; code: string; name?: string; partitions?: number[] };

export type PanelConfig = {
  model?: PanelModelName;
  module?: ModuleName;
  /** Code of user 1 (digits, prefix first if the panel uses prefixes). Default "1234". */
  userCode?: string;
  /** Further users; user 1 comes from userCode unless listed here. */
  users?: PanelUser[];
  /** Event log ring size (default 1000). */
  logSize?: number;
  /** Index of the first record (default 0). */
  firstLogIndex?: number;
  /** Exit time after an arm command (default 0: armed at once). */
  exitDelayMs?: number;
  /** Zones per partition in the default assignment (default 8: zones 1–8 in partition 1, 9–16 in 2 …). */
  zonesPerPartition?: number;
  /** Wall clock in ms (default Date.now). */
  clock?: () => number;
  /** 0x7E language byte (default 1). */
  language?: number;
};

/** A zone trouble is addressed by zone number; named troubles by name. */
export type TroubleRef = TroubleName | number;

type ArmOptions = { mode?: number; force?: boolean; user?: number };

export type PanelCore = {
  readonly model: PanelModelName;
  readonly module: ModuleName;
  readonly zones: number;
  readonly outputs: number;
  readonly partitions: number;
  /** True when the panel answers 32-byte zone/output bitmaps (INTEGRA 256 Plus behind an ETHM-1 Plus). */
  readonly extendedBitmaps: boolean;
  readonly language: number;
  readonly users: readonly Required<PanelUser>[];
  readonly store: StateStore;
  readonly log: EventLog;
  readonly clock: () => number;
  zonePartition(zone: number): number;
  /** Each returns the log records written (first = the one a trace is attached to). */
  violateZone(zone: number, trace?: Trace): LogRecord[];
  restoreZone(zone: number, trace?: Trace): LogRecord[];
  alarmZone(zone: number, trace?: Trace): LogRecord[];
  fireZone(zone: number, trace?: Trace): LogRecord[];
  tamperZone(zone: number, trace?: Trace): LogRecord[];
  raiseTrouble(t: TroubleRef, trace?: Trace): LogRecord[];
  clearTrouble(t: TroubleRef, trace?: Trace): LogRecord[];
  /** Command execution as the panel does it; returns an 0xEF result code. */
  userByCode(code: string): Required<PanelUser> | undefined;
  arm(partitions: number[], opts?: ArmOptions, trace?: Trace): number;
  disarm(partitions: number[], user?: number, trace?: Trace): number;
  clearAlarm(partitions: number[], user?: number, trace?: Trace): number;
  setBypass(zones: number[], on: boolean, user?: number, trace?: Trace): number;
  setOutputs(outputs: number[], on: boolean, user?: number, trace?: Trace): number;
  clearTroubleMemory(user?: number): number;
  /** Completes exit times that are due; returns true while some remain. */
  tick(): boolean;
  hasPendingExit(): boolean;
  onRecord(listener: (rec: LogRecord, trace: Trace | undefined) => void): () => void;
};

function checkRange(what: string, n: number, max: number): void {
  if (!Number.isInteger(n) || n < 1 || n > max) throw new RangeError(`${what} ${String(n)} outside 1..${max}`);
}

export function createPanelCore(config: PanelConfig = {}): PanelCore {
  const model = config.model ?? 'integra128';
  const module = config.module ?? 'ethm1plus';
  const spec = PANEL_MODELS[model];
  if (!spec) throw new RangeError(`unknown panel model "${String(model)}"`);
  if (!(module in MODULES)) throw new RangeError(`unknown module "${String(module)}"`);
  const clock = config.clock ?? Date.now;
  const exitDelayMs = config.exitDelayMs ?? 0;
  const perPartition = config.zonesPerPartition ?? 8;
  const store = createStateStore();
  const log = createEventLog({ size: config.logSize ?? 1000, firstIndex: config.firstLogIndex ?? 0 });
  const listeners = new Set<(rec: LogRecord, trace: Trace | undefined) => void>();
  const allPartitions = Array.from({ length: spec.partitions }, (_, i) => i + 1);
  const users: Required<PanelUser>[] = [];
  const listed = config.users ?? [];
  if (!listed.some((u) => u.number === 1)) users.push({ number: 1, code: config.userCode ?? '1234', name: 'User 1', partitions: allPartitions });
  for (const u of listed) users.push({ number: u.number, code: u.code, name: u.name ?? `User ${u.number}`, partitions: u.partitions ?? allPartitions });
  for (const u of users) {
    if (!/^\d{1,16}$/.test(u.code)) throw new RangeError(`user ${u.number}: code must be 1–16 digits`);
  }
  const pendingExit = new Map<number, { dueMs: number; mode: number; user: number; force: boolean }>();
  /** Zones whose latched alarm is a fire alarm: their restore is logged as "Fire alarm zone restore". */
  const fireZones = new Set<number>();

  const zonePartition = (zone: number): number => (Math.floor((zone - 1) / perPartition) % spec.partitions) + 1;

  function write(name: EventCodeName, restore: boolean, fields: { partition?: number; source?: number; user?: number }, trace?: Trace): LogRecord {
    const ev = EVENT_CODES[name];
    const rec = log.append({
      timeMs: clock(), cls: ev.cls, code: ev.code, restore, partition: fields.partition ?? 0,
      source: fields.source ?? 0, object: 0, user: fields.user ?? 0,
    }, trace);
    for (const l of listeners) l(rec, trace);
    return rec;
  }

  function refreshViolatedPartition(p: number): void {
    let any = false;
    for (let z = 1; z <= spec.zones && !any; z++) if (zonePartition(z) === p && store.get(ZONE_CMD.violation, z)) any = true;
    store.set(PARTITION_CMD.violatedZones, p, any);
  }

  function partitionAlarm(p: number, fire: boolean): void {
    store.set(fire ? PARTITION_CMD.fireAlarm : PARTITION_CMD.alarm, p, true);
    store.set(fire ? PARTITION_CMD.fireAlarmMemory : PARTITION_CMD.alarmMemory, p, true);
  }

  function zoneAlarm(zone: number, name: 'burglaryAlarm' | 'fireAlarm', trace?: Trace): LogRecord {
    const p = zonePartition(zone);
    store.set(ZONE_CMD.alarm, zone, true);
    store.set(ZONE_CMD.alarmMemory, zone, true);
    if (name === 'fireAlarm') fireZones.add(zone);
    partitionAlarm(p, name === 'fireAlarm');
    return write(name, false, { partition: p, source: zone }, trace);
  }

  function troubleBit(t: TroubleRef): { cmd: number; byte: number; bit: number; event: EventCodeName; source: number } {
    if (typeof t === 'number') {
      checkRange('zone', t, spec.zones);
      const cmd = t <= 128 ? 0x1b : 0x2d;
      const i = (t - 1) % 128;
      return { cmd, byte: i >> 3, bit: i & 7, event: 'zoneTrouble', source: t };
    }
    const def = TROUBLES[t];
    if (!def) throw new RangeError(`unknown trouble "${String(t)}"`);
    return { ...def, source: 0 };
  }

  function finishArm(p: number, mode: number, user: number, force: boolean, trace?: Trace): LogRecord {
    store.set(PARTITION_CMD.exitTimeLong, p, false);
    store.set(PARTITION_CMD.exitTimeShort, p, false);
    store.set(PARTITION_CMD.armedSuppressed, p, true);
    store.set(PARTITION_CMD.armed, p, true);
    store.set(PARTITION_CMD.mode1, p, mode === 1);
    store.set(PARTITION_CMD.mode2, p, mode === 2);
    store.set(PARTITION_CMD.mode3, p, mode === 3);
    // Arming starts a new period: the memory of the last one is cleared.
    store.set(PARTITION_CMD.alarmMemory, p, false);
    store.set(PARTITION_CMD.fireAlarmMemory, p, false);
    for (let z = 1; z <= spec.zones; z++) {
      if (zonePartition(z) !== p) continue;
      store.set(ZONE_CMD.alarmMemory, z, false);
      store.set(ZONE_CMD.tamperAlarmMemory, z, false);
    }
    return write(force ? 'forcedArming' : 'armByUser', !force, { partition: p, source: user, user }, trace);
  }

  /** Mode the partition is armed in, or -1. */
  function armedMode(p: number): number {
    if (!store.get(PARTITION_CMD.armed, p)) return -1;
    if (store.get(PARTITION_CMD.mode1, p)) return 1;
    if (store.get(PARTITION_CMD.mode2, p)) return 2;
    return store.get(PARTITION_CMD.mode3, p) ? 3 : 0;
  }

  const isArmedOrExiting = (p: number): boolean => store.get(PARTITION_CMD.armedSuppressed, p) || pendingExit.has(p);

  const core: PanelCore = {
    model, module, zones: spec.zones, outputs: spec.outputs, partitions: spec.partitions,
    extendedBitmaps: spec.type === 72 && (MODULES[module].flags & 0x01) !== 0,
    language: config.language ?? 1,
    users, store, log, clock, zonePartition,

    violateZone(zone, trace) {
      checkRange('zone', zone, spec.zones);
      const p = zonePartition(zone);
      store.set(ZONE_CMD.violation, zone, true);
      refreshViolatedPartition(p);
      if (store.get(PARTITION_CMD.armed, p) && !store.get(ZONE_CMD.bypass, zone)) return [zoneAlarm(zone, 'burglaryAlarm', trace)];
      return [write('zoneViolation', false, { partition: p, source: zone }, trace)];
    },
    restoreZone(zone, trace) {
      checkRange('zone', zone, spec.zones);
      const p = zonePartition(zone);
      const recs: LogRecord[] = [];
      const wasTamper = store.set(ZONE_CMD.tamper, zone, false);
      store.set(ZONE_CMD.violation, zone, false);
      refreshViolatedPartition(p);
      const name = !store.get(ZONE_CMD.alarm, zone) ? 'zoneViolation' : fireZones.has(zone) ? 'fireAlarm' : 'burglaryAlarm';
      recs.push(write(name, true, { partition: p, source: zone }, trace));
      if (wasTamper) recs.push(write('zoneTamper', true, { partition: p, source: zone }));
      return recs;
    },
    alarmZone(zone, trace) {
      checkRange('zone', zone, spec.zones);
      return [zoneAlarm(zone, 'burglaryAlarm', trace)];
    },
    fireZone(zone, trace) {
      checkRange('zone', zone, spec.zones);
      return [zoneAlarm(zone, 'fireAlarm', trace)];
    },
    tamperZone(zone, trace) {
      checkRange('zone', zone, spec.zones);
      const p = zonePartition(zone);
      store.set(ZONE_CMD.tamper, zone, true);
      store.set(ZONE_CMD.tamperAlarm, zone, true);
      store.set(ZONE_CMD.tamperAlarmMemory, zone, true);
      partitionAlarm(p, false);
      return [write('zoneTamper', false, { partition: p, source: zone }, trace)];
    },
    raiseTrouble(t, trace) {
      const b = troubleBit(t);
      const mem = TROUBLE_MEMORY_CMD[b.cmd];
      if (mem !== undefined) store.setRaw(mem, b.byte, b.bit, true);
      if (!store.setRaw(b.cmd, b.byte, b.bit, true)) return [];
      return [write(b.event, false, { source: b.source }, trace)];
    },
    clearTrouble(t, trace) {
      const b = troubleBit(t);
      if (!store.setRaw(b.cmd, b.byte, b.bit, false)) return [];
      return [write(b.event, true, { source: b.source }, trace)];
    },

    userByCode: (code) => users.find((u) => u.code === code),

    arm(parts, opts = {}, trace) {
      const mode = opts.mode ?? 0;
      const user = opts.user ?? 1;
      if (!opts.force) {
        for (const p of parts) {
          if (isArmedOrExiting(p)) continue;
          for (let z = 1; z <= spec.zones; z++) {
            if (zonePartition(z) !== p || store.get(ZONE_CMD.bypass, z)) continue;
            if (store.get(ZONE_CMD.violation, z) || store.get(ZONE_CMD.tamper, z)) return RESULT.cannotArmForcePossible;
          }
        }
      }
      let traced = trace;
      for (const p of parts) {
        if (pendingExit.has(p) || armedMode(p) === mode) continue;
        if (exitDelayMs > 0 && !store.get(PARTITION_CMD.armed, p)) {
          pendingExit.set(p, { dueMs: clock() + exitDelayMs, mode, user, force: opts.force === true });
          store.set(exitDelayMs > 10_000 ? PARTITION_CMD.exitTimeLong : PARTITION_CMD.exitTimeShort, p, true);
          store.set(PARTITION_CMD.armedSuppressed, p, true);
          write('exitTimeStarted', false, { partition: p, source: user, user }, traced);
        } else {
          finishArm(p, mode, user, opts.force === true, traced);
        }
        traced = undefined;
      }
      return RESULT.ok;
    },
    disarm(parts, user = 1, trace) {
      let traced = trace;
      for (const p of parts) {
        const wasArmed = isArmedOrExiting(p);
        pendingExit.delete(p);
        for (const cmd of [PARTITION_CMD.armedSuppressed, PARTITION_CMD.armed, PARTITION_CMD.mode1, PARTITION_CMD.mode2,
          PARTITION_CMD.mode3, PARTITION_CMD.exitTimeLong, PARTITION_CMD.exitTimeShort, PARTITION_CMD.entryTime]) {
          store.set(cmd, p, false);
        }
        if (wasArmed) {
          write('armByUser', false, { partition: p, source: user, user }, traced);
          traced = undefined;
        }
      }
      core.clearAlarm(parts, user, traced);
      return RESULT.ok;
    },
    clearAlarm(parts, user = 1, trace) {
      let traced = trace;
      for (const p of parts) {
        let had = store.set(PARTITION_CMD.alarm, p, false);
        had = store.set(PARTITION_CMD.fireAlarm, p, false) || had;
        for (let z = 1; z <= spec.zones; z++) {
          if (zonePartition(z) !== p) continue;
          had = store.set(ZONE_CMD.alarm, z, false) || had;
          fireZones.delete(z);
          had = store.set(ZONE_CMD.tamperAlarm, z, false) || had;
        }
        if (had) {
          write('alarmCleared', false, { partition: p, source: user, user }, traced);
          traced = undefined;
        }
      }
      return RESULT.ok;
    },
    setBypass(zones, on, user = 1, trace) {
      let traced = trace;
      for (const z of zones) {
        if (z > spec.zones || !store.set(ZONE_CMD.bypass, z, on)) continue;
        write('zoneBypass', !on, { partition: zonePartition(z), source: z, user }, traced);
        traced = undefined;
      }
      return RESULT.ok;
    },
    setOutputs(outputs, on, user = 1, trace) {
      let traced = trace;
      for (const o of outputs) {
        if (o > spec.outputs || !store.set(OUTPUTS_CMD, o, on)) continue;
        write('outputSwitched', !on, { source: o, user }, traced);
        traced = undefined;
      }
      return RESULT.ok;
    },
    clearTroubleMemory(user = 1) {
      for (const [cmd, mem] of Object.entries(TROUBLE_MEMORY_CMD)) {
        const active = store.bytes(Number(cmd));
        const memory = store.bytes(mem);
        for (let i = 0; i < memory.length; i++) {
          for (let bit = 0; bit < 8; bit++) if (!((active[i] ?? 0) & (1 << bit))) store.setRaw(mem, i, bit, false);
        }
      }
      write('troubleMemoryCleared', false, { source: user, user });
      return RESULT.ok;
    },

    tick() {
      const now = clock();
      for (const [p, e] of pendingExit) {
        if (e.dueMs > now) continue;
        pendingExit.delete(p);
        finishArm(p, e.mode, e.user, e.force);
      }
      return pendingExit.size > 0;
    },
    hasPendingExit: () => pendingExit.size > 0,
    onRecord(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  return core;
}
