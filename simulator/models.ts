/**
 * What the simulator knows about INTEGRA panels and ETHM-1 modules: sizes, type codes, the state
 * commands 0x00–0x2F with their answer lengths, the troubles it can raise and the event codes it writes.
 * Plain data, no behaviour. Facts from /work/shared/reference/satel-integration-protocol.md; the trouble
 * layout follows the openHAB Satel binding (TroubleState), the event codes Satel's event table.
 */

/** INTEGRA panels: 0x7E type byte and how many zones / outputs / partitions they have. */
export const PANEL_MODELS = {
  integra24: { type: 0, zones: 24, outputs: 20, partitions: 4, name: 'INTEGRA 24' },
  integra32: { type: 1, zones: 32, outputs: 32, partitions: 16, name: 'INTEGRA 32' },
  integra64: { type: 2, zones: 64, outputs: 64, partitions: 32, name: 'INTEGRA 64' },
  integra128: { type: 3, zones: 128, outputs: 128, partitions: 32, name: 'INTEGRA 128' },
  integra128wrl: { type: 132, zones: 128, outputs: 128, partitions: 32, name: 'INTEGRA 128-WRL' },
  integra64plus: { type: 66, zones: 64, outputs: 64, partitions: 32, name: 'INTEGRA 64 Plus' },
  integra128plus: { type: 67, zones: 128, outputs: 128, partitions: 32, name: 'INTEGRA 128 Plus' },
  integra256plus: { type: 72, zones: 256, outputs: 256, partitions: 32, name: 'INTEGRA 256 Plus' },
} as const;
export type PanelModelName = keyof typeof PANEL_MODELS;
export const PANEL_MODEL_NAMES = Object.keys(PANEL_MODELS) as PanelModelName[];

/**
 * ETHM-1 modules. The plain ETHM-1 (firmware 1.05 here) has no 32-byte answers and no monitoring mode;
 * the ETHM-1 Plus answers 32-byte bitmaps (0x7C flag bit0), accepts `0x7F` + 12 bytes and encryption.
 */
export const MODULES = {
  ethm1: { version: '10520120527', flags: 0x00, monitoring: false },
  ethm1plus: { version: '20620200115', flags: 0x01, monitoring: true },
} as const;
export type ModuleName = keyof typeof MODULES;
export const MODULE_NAMES = Object.keys(MODULES) as ModuleName[];

/** Panel firmware reported by 0x7E. */
export const PANEL_FIRMWARE = '12320120527';

/** Highest object count a command can address; bitmaps are kept at this width and answered 16 or 32 bytes. */
export const MAX_OBJECTS = 256;
export const PARTITION_BITMAP_BYTES = 4;

/** Kinds of payload a state query answers with. */
export const PayloadKind = { zones: 'zones', outputs: 'outputs', partitions: 'partitions', fixed: 'fixed' } as const;
export type PayloadKind = (typeof PayloadKind)[keyof typeof PayloadKind];

/** State commands 0x00–0x2F (0x1A, the clock, is computed). `bytes` is the fixed length for `fixed`. */
export const STATE_COMMANDS: Readonly<Record<number, { kind: PayloadKind; bytes: number }>> = (() => {
  const t: Record<number, { kind: PayloadKind; bytes: number }> = {};
  const zones = { kind: PayloadKind.zones, bytes: 16 };
  const parts = { kind: PayloadKind.partitions, bytes: 4 };
  for (let c = 0x00; c <= 0x08; c++) t[c] = zones;
  for (let c = 0x09; c <= 0x16; c++) t[c] = parts;
  t[0x17] = { kind: PayloadKind.outputs, bytes: 16 };
  t[0x18] = { kind: PayloadKind.fixed, bytes: 8 };
  t[0x19] = { kind: PayloadKind.fixed, bytes: 8 };
  t[0x1a] = { kind: PayloadKind.fixed, bytes: 9 };
  const fixed: Array<[number, number]> = [
    [0x1b, 47], [0x1c, 26], [0x1d, 60], [0x1e, 30], [0x1f, 31], // troubles parts 1–5
    [0x20, 47], [0x21, 39], [0x22, 60], [0x23, 30], [0x24, 48], // troubles memory parts 1–5
    [0x2c, 45], [0x2d, 47], [0x2e, 45], [0x2f, 48], // troubles part 6, 7; memory part 6, 7
  ];
  for (const [c, n] of fixed) t[c] = { kind: PayloadKind.fixed, bytes: n };
  t[0x25] = parts; // partitions with violated zones
  t[0x26] = zones; // zones isolate
  t[0x27] = parts; // partitions with verified alarms
  t[0x28] = zones; // zones masked
  t[0x29] = zones; // zones masked memory
  t[0x2a] = parts; // armed in mode 1
  t[0x2b] = parts; // partitions with warning alarms
  return t;
})();

/** Which state command holds each zone / partition attribute. */
export const ZONE_CMD = {
  violation: 0x00, tamper: 0x01, alarm: 0x02, tamperAlarm: 0x03, alarmMemory: 0x04, tamperAlarmMemory: 0x05,
  bypass: 0x06, noViolationTrouble: 0x07, longViolationTrouble: 0x08, isolate: 0x26, masked: 0x28, maskedMemory: 0x29,
} as const;
export type ZoneAttr = keyof typeof ZONE_CMD;

export const PARTITION_CMD = {
  armedSuppressed: 0x09, armed: 0x0a, mode2: 0x0b, mode3: 0x0c, firstCode: 0x0d, entryTime: 0x0e,
  exitTimeLong: 0x0f, exitTimeShort: 0x10, tempBlocked: 0x11, guardBlocked: 0x12, alarm: 0x13, fireAlarm: 0x14,
  alarmMemory: 0x15, fireAlarmMemory: 0x16, violatedZones: 0x25, verifiedAlarm: 0x27, mode1: 0x2a, warningAlarm: 0x2b,
} as const;
export type PartitionAttr = keyof typeof PARTITION_CMD;

export const OUTPUTS_CMD = 0x17;

/** Trouble memory lives in these commands, at the same byte/bit as the trouble itself. */
export const TROUBLE_MEMORY_CMD: Readonly<Record<number, number>> = {
  0x1b: 0x20, 0x1c: 0x21, 0x1d: 0x22, 0x1e: 0x23, 0x1f: 0x24, 0x2c: 0x2e, 0x2d: 0x2f,
};

/** Event log classes (b1 KKK). */
export const EventClass = {
  zoneAlarm: 0, partitionAlarm: 1, armDisarm: 2, bypass: 3, accessControl: 4, trouble: 5, userFunction: 6, system: 7,
} as const;
export type EventClass = (typeof EventClass)[keyof typeof EventClass];

/**
 * Event codes the simulator writes (10-bit code, restore flag gives the second meaning) and the
 * "kind of description" 0x8F reports for the source byte (1 zone, 2 user, 4 module …).
 */
export const EVENT_CODES = {
  zoneViolation: { code: 99, cls: EventClass.zoneAlarm, kind: 1, text: ['Zone violation', 'Zone restore'] },
  burglaryAlarm: { code: 130, cls: EventClass.zoneAlarm, kind: 1, text: ['Burglary alarm', 'Zone restore'] },
  fireAlarm: { code: 110, cls: EventClass.zoneAlarm, kind: 1, text: ['Fire alarm', 'Fire alarm zone restore'] },
  zoneTamper: { code: 144, cls: EventClass.zoneAlarm, kind: 1, text: ['Alarm (zone tamper)', 'Zone tamper restore'] },
  armByUser: { code: 401, cls: EventClass.armDisarm, kind: 2, text: ['Disarm by user', 'Arm by user'] },
  forcedArming: { code: 1001, cls: EventClass.armDisarm, kind: 2, text: ['Forced arming', 'Forced arming'] },
  alarmCleared: { code: 406, cls: EventClass.armDisarm, kind: 2, text: ['Alarm cleared', 'Alarm cleared'] },
  exitTimeStarted: { code: 985, cls: EventClass.armDisarm, kind: 2, text: ['Exit time started', 'Exit time started'] },
  zoneBypass: { code: 570, cls: EventClass.bypass, kind: 1, text: ['Zone bypass', 'Zone unbypass'] },
  troubleMemoryCleared: { code: 69, cls: EventClass.userFunction, kind: 2, text: ['Troubles memory cleared', 'Troubles memory cleared'] },
  outputSwitched: { code: 47, cls: EventClass.userFunction, kind: 10, text: ['Remote switch turned on', 'Remote switch turned off'] },
  acTrouble: { code: 301, cls: EventClass.trouble, kind: 4, text: ['AC supply trouble', 'AC supply ok'] },
  batteryTrouble: { code: 302, cls: EventClass.trouble, kind: 4, text: ['Low battery voltage', 'Battery ok'] },
  rtcTrouble: { code: 625, cls: EventClass.trouble, kind: 0, text: ['System real-time clock trouble', 'System real-time clock ok'] },
  monitoringTrouble: { code: 350, cls: EventClass.trouble, kind: 0, text: ['Transmission to monitoring station trouble', 'Transmission to monitoring station ok'] },
  lanTrouble: { code: 78, cls: EventClass.trouble, kind: 1, text: ['Network cable unplugged', 'Network cable ok'] },
  zoneTrouble: { code: 1000, cls: EventClass.trouble, kind: 1, text: ['Trouble (zone)', 'Trouble restore (zone)'] },
  panelRestart: { code: 305, cls: EventClass.system, kind: 4, text: ['Main panel restart', 'Main panel restart'] },
} as const;
export type EventCodeName = keyof typeof EVENT_CODES;

/** Reverse lookup for 0x8F: code → entry. */
export const EVENT_BY_CODE: ReadonlyMap<number, (typeof EVENT_CODES)[EventCodeName]> = new Map(
  Object.values(EVENT_CODES).map((e) => [e.code, e]),
);

/**
 * Named troubles: the command (troubles part) and byte/bit that shows them, and the event they log.
 * Part 1 bytes 40–42 are the main panel's system troubles (byte 40: bit6 battery, bit7 AC; byte 41: bit3
 * clock), byte 46 the ETHM-1; part 4 byte 18 is "ETHM-1 no LAN".
 */
export const TROUBLES = {
  ac: { cmd: 0x1b, byte: 40, bit: 7, event: 'acTrouble' },
  battery: { cmd: 0x1b, byte: 40, bit: 6, event: 'batteryTrouble' },
  rtc: { cmd: 0x1b, byte: 41, bit: 3, event: 'rtcTrouble' },
  ethm1: { cmd: 0x1b, byte: 46, bit: 0, event: 'monitoringTrouble' },
  lan: { cmd: 0x1e, byte: 18, bit: 0, event: 'lanTrouble' },
} as const satisfies Record<string, { cmd: number; byte: number; bit: number; event: EventCodeName }>;
export type TroubleName = keyof typeof TROUBLES;
export const TROUBLE_NAMES = Object.keys(TROUBLES) as TroubleName[];

/** 0xEF result codes the panel answers with. */
export const RESULT = {
  ok: 0x00, userCodeNotFound: 0x01, noAccess: 0x02, userDoesNotExist: 0x03, otherError: 0x08,
  cannotArmForcePossible: 0x11, cannotArm: 0x12, accepted: 0xff,
} as const;

/** 0xEE device types. */
export const DeviceType = { partition: 0, zone: 1, user: 2, expander: 3, output: 4, zoneWithPartition: 5 } as const;
