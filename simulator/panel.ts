/**
 * A simulated INTEGRA panel behind an ETHM-1 module, as a pure function of requests: `handle()` takes
 * one request frame's command and data and returns the answer frames a real panel would send. The TCP
 * server, the control API and the tests all drive the same model.
 */
import {
  decodeRequest, encodeDeviceName, encodeEventTextAnswer, encodeIntegraVersion, encodeModuleVersion,
  encodeReadEventAnswer, encodeResult, encodeRtc,
  type EventRecordFields, type Message,
} from '../ingest/satel/protocol/index.ts';
import type { LogRecord } from './event-log.ts';
import {
  DeviceType, EVENT_BY_CODE, MODULES, PANEL_FIRMWARE, PANEL_MODELS, PARTITION_CMD, PayloadKind, RESULT, STATE_COMMANDS,
  TROUBLES, TROUBLE_MEMORY_CMD, ZONE_CMD, type PartitionAttr, type TroubleName, type ZoneAttr,
} from './models.ts';
import { createPanelCore, type PanelConfig, type PanelCore } from './panel-core.ts';

export type Request = { cmd: number; data?: Uint8Array };
export type Answer = Message;

export type PanelSnapshot = {
  model: string;
  module: string;
  zones: number;
  outputs: number;
  partitions: number;
  extendedBitmaps: boolean;
  /** Per attribute, the zone numbers that have it (attributes with none are left out). */
  zoneStates: Partial<Record<ZoneAttr, number[]>>;
  partitionStates: Partial<Record<PartitionAttr, number[]>>;
  outputsOn: number[];
  troubles: { active: string[]; memory: string[]; zones: number[] };
  /** Commands whose "new data" flag (0x7F) is set. */
  newData: number[];
  log: { size: number; length: number; newestIndex: number | null };
};

export type Panel = PanelCore & {
  /** Answers one request as the panel does. */
  handle(req: Request): Answer[];
  /** Monitoring mode: the state frames of the commands in `cmds` whose data changed; clears their flags. */
  takeMonitored(cmds: ReadonlySet<number>): Answer[];
  snapshot(): PanelSnapshot;
};

const TROUBLE_PARTS = Object.keys(TROUBLE_MEMORY_CMD).map(Number);
const TROUBLE_MEMORY_PARTS = Object.values(TROUBLE_MEMORY_CMD);

const result = (code: number): Answer[] => [encodeResult(code)];

export function createPanel(config: PanelConfig = {}): Panel {
  const core = createPanelCore(config);
  const { store, log } = core;
  const module = MODULES[core.module];

  function stateAnswer(cmd: number, extended: boolean): Answer {
    const def = STATE_COMMANDS[cmd]!;
    store.clearNew(cmd);
    if (cmd === 0x1a) return rtcAnswer();
    const bytes = store.bytes(cmd);
    const width = def.kind === PayloadKind.zones || def.kind === PayloadKind.outputs ? (extended ? 32 : 16) : bytes.length;
    return { cmd, data: Buffer.from(bytes.subarray(0, width)) };
  }

  function rtcAnswer(): Answer {
    const d = new Date(core.clock());
    const anyOf = (cmds: number[]): boolean => cmds.some((c) => store.any(c));
    // Status byte 1: day of week (0 = Monday) in bits 0–2, troubles bit 6; byte 2: troubles memory bit 5.
    const status1 = ((d.getDay() + 6) % 7) | (anyOf(TROUBLE_PARTS) ? 0x40 : 0);
    const status2 = anyOf(TROUBLE_MEMORY_PARTS) ? 0x20 : 0;
    return encodeRtc({
      year: d.getFullYear(), month: d.getMonth() + 1, day: d.getDate(), hour: d.getHours(), minute: d.getMinutes(),
      second: d.getSeconds(), status1, status2,
    });
  }

  function recordFields(r: LogRecord | undefined): EventRecordFields {
    if (!r) {
      return {
        notEmpty: false, present: false, s1: 0, s2: 0, year: 0, month: 0, day: 0, minuteOfDay: 0, eventClass: 0,
        partitionRaw: 0, restore: false, code: 0, source: 0, object: 0, userControlNumber: 0,
      };
    }
    const d = new Date(r.timeMs);
    return {
      notEmpty: true, present: true, s1: 0, s2: 0, year: d.getFullYear(), month: d.getMonth() + 1, day: d.getDate(),
      minuteOfDay: d.getHours() * 60 + d.getMinutes(), eventClass: r.cls,
      // Partition n is sent as n-1 (0 also when the event has no partition).
      partitionRaw: Math.max(0, r.partition - 1), restore: r.restore, code: r.code, source: r.source & 0xff,
      object: r.object, userControlNumber: r.user & 0x1f,
    };
  }

  function readEvent(index: number): Answer {
    const rec = log.read(index);
    // At the end of the log (Z = 0) the index stays where the caller is, so a reader stops there.
    const eventIndex = rec ? rec.index : index === 0xffffff ? 0 : index;
    return encodeReadEventAnswer({ record: recordFields(rec), eventIndex, calledIndex: index });
  }

  function deviceName(type: number, n: number): Answer[] {
    const exists = (max: number): boolean => n >= 1 && n <= max;
    switch (type) {
      case DeviceType.partition:
        return exists(core.partitions) ? [encodeDeviceName({ type, number: n, function: 0, name: `Partition ${n}` })] : result(RESULT.otherError);
      case DeviceType.zone:
      case DeviceType.zoneWithPartition:
        if (!exists(core.zones)) return result(RESULT.otherError);
        return [encodeDeviceName({ type, number: n, function: 1, name: `Zone ${n}`, extra: core.zonePartition(n) })];
      case DeviceType.output:
        return exists(core.outputs) ? [encodeDeviceName({ type, number: n, function: 1, name: `Output ${n}` })] : result(RESULT.otherError);
      case DeviceType.user: {
        const u = core.users.find((x) => x.number === n);
        return u ? [encodeDeviceName({ type, number: n, function: 0, name: u.name.slice(0, 16), extra: 0 })] : result(RESULT.otherError);
      }
      default:
        return result(RESULT.otherError);
    }
  }

  function control(req: Extract<ReturnType<typeof decodeRequest>, { kind: 'control' }>): Answer[] {
    const user = core.userByCode(req.userCode);
    if (!user) return result(RESULT.userCodeNotFound);
    const noAccess = (parts: number[]): boolean => parts.some((p) => p > core.partitions || !user.partitions.includes(p));
    switch (req.action) {
      case 'clearTroubleMemory':
        return result(core.clearTroubleMemory(user.number));
      case 'bypassZones':
      case 'unbypassZones':
        if (req.zones.some((z) => z > core.zones || !user.partitions.includes(core.zonePartition(z)))) return result(RESULT.noAccess);
        return result(core.setBypass(req.zones, req.action === 'bypassZones', user.number));
      case 'outputsOn':
      case 'outputsOff':
        if (req.outputs.some((o) => o > core.outputs)) return result(RESULT.noAccess);
        return result(core.setOutputs(req.outputs, req.action === 'outputsOn', user.number));
      case 'arm':
      case 'forceArm':
        if (req.partitions.length === 0) return result(RESULT.otherError);
        if (noAccess(req.partitions)) return result(RESULT.noAccess);
        return result(core.arm(req.partitions, { mode: req.mode, force: req.action === 'forceArm', user: user.number }));
      case 'disarm':
      case 'clearAlarm':
        if (req.partitions.length === 0) return result(RESULT.otherError);
        if (noAccess(req.partitions)) return result(RESULT.noAccess);
        return result(req.action === 'disarm' ? core.disarm(req.partitions, user.number) : core.clearAlarm(req.partitions, user.number));
    }
  }

  function handle(req: Request): Answer[] {
    const data = Buffer.from(req.data ?? new Uint8Array(0));
    const def = STATE_COMMANDS[req.cmd];
    if (def) {
      const extendable = def.kind === PayloadKind.zones || def.kind === PayloadKind.outputs;
      if (data.length > (extendable ? 1 : 0)) return result(RESULT.otherError);
      return [stateAnswer(req.cmd, data.length === 1 && core.extendedBitmaps)];
    }
    let r: ReturnType<typeof decodeRequest>;
    try {
      r = decodeRequest({ cmd: req.cmd, data });
    } catch {
      return result(RESULT.otherError);
    }
    switch (r.kind) {
      case 'state':
        return [stateAnswer(r.cmd, r.extended && core.extendedBitmaps)];
      case 'moduleVersion':
        return [encodeModuleVersion({ raw: module.version, flags: module.flags })];
      case 'integraVersion':
        return [encodeIntegraVersion({ type: PANEL_MODELS[core.model].type, raw: PANEL_FIRMWARE, language: core.language, settingsInFlash: true })];
      case 'newData':
        if (r.mode === 'monitor') return result(module.monitoring ? RESULT.accepted : RESULT.otherError);
        return [{ cmd: 0x7f, data: Buffer.from(store.newDataBytes(r.extended ? 6 : 5)) }];
      case 'control':
        return control(r);
      case 'readEvent':
        return [readEvent(r.index)];
      case 'eventText': {
        const ev = EVENT_BY_CODE.get(r.code);
        const text = ev ? ev.text[r.restore ? 1 : 0] : `Event ${r.code}`;
        return [encodeEventTextAnswer({ ...r, kind: ev?.kind ?? 0, text: text.slice(0, r.long ? 46 : 16) })];
      }
      case 'deviceName':
        return deviceName(r.type, r.number);
    }
  }

  function takeMonitored(cmds: ReadonlySet<number>): Answer[] {
    const out: Answer[] = [];
    for (const cmd of cmds) {
      // Pushed zone/output frames are 32 bytes wide (what c-soft/satel_integra expects in monitoring mode).
      if (STATE_COMMANDS[cmd] && store.isNew(cmd)) out.push(stateAnswer(cmd, true));
    }
    return out;
  }

  function snapshot(): PanelSnapshot {
    const pick = <K extends string>(table: Record<K, number>): Partial<Record<K, number[]>> => {
      const out: Partial<Record<K, number[]>> = {};
      for (const [k, cmd] of Object.entries(table) as Array<[K, number]>) {
        const list = store.list(cmd);
        if (list.length > 0) out[k] = list;
      }
      return out;
    };
    const names = (which: 'active' | 'memory'): string[] =>
      (Object.keys(TROUBLES) as TroubleName[]).filter((t) => {
        const def = TROUBLES[t];
        return store.getRaw(which === 'active' ? def.cmd : TROUBLE_MEMORY_CMD[def.cmd]!, def.byte, def.bit);
      });
    const zoneTroubles = [...store.list(0x1b).filter((z) => z <= 128), ...store.list(0x2d).filter((z) => z <= 128).map((z) => z + 128)]
      .filter((z) => z <= core.zones);
    return {
      model: core.model, module: core.module, zones: core.zones, outputs: core.outputs, partitions: core.partitions,
      extendedBitmaps: core.extendedBitmaps,
      zoneStates: pick(ZONE_CMD),
      partitionStates: pick(PARTITION_CMD),
      outputsOn: store.list(0x17),
      troubles: { active: names('active'), memory: names('memory'), zones: zoneTroubles },
      newData: Array.from({ length: 0x30 }, (_, c) => c).filter((c) => store.isNew(c)),
      log: { size: log.size, length: log.length, newestIndex: log.newest()?.index ?? null },
    };
  }

  return Object.assign(core, { handle, takeMonitored, snapshot });
}
