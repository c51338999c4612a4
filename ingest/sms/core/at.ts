/**
 * The AT vocabulary of a GSM modem in PDU mode (3GPP TS 27.005 / 27.007), as pure parsers: final result
 * codes, unsolicited result codes (URCs), the reply lines the driver reads, and the commands it sends.
 */

export type FinalResult =
  | { ok: true }
  | { ok: false; type: 'ERROR' | '+CME ERROR' | '+CMS ERROR'; code: number | null; text: string };

/** OK, ERROR, `+CME ERROR: <n>`, `+CMS ERROR: <n>` — or undefined for any other line. */
export function parseFinal(line: string): FinalResult | undefined {
  const l = line.trim();
  if (l === 'OK') return { ok: true };
  if (l === 'ERROR') return { ok: false, type: 'ERROR', code: null, text: l };
  const m = /^\+(CME|CMS) ERROR:\s*(.*)$/.exec(l);
  if (!m) return undefined;
  const code = /^\d+$/.test(m[2]!) ? Number(m[2]) : null;
  return { ok: false, type: m[1] === 'CME' ? '+CME ERROR' : '+CMS ERROR', code, text: l };
}

/** +CMS ERROR codes the driver acts on (27.005 §3.2.5). */
export const CMS = { SIM_NOT_INSERTED: 310, SIM_PIN_REQUIRED: 311, SIM_FAILURE: 313, SIM_BUSY: 314, MEMORY_FAILURE: 320, INVALID_INDEX: 321, MEMORY_FULL: 322 } as const;

export type Urc =
  | { code: 'CMTI'; storage: string; index: number }
  | { code: 'CDSI'; storage: string; index: number }
  | { code: 'MEMORY_FULL'; line: string }
  | { code: 'RING' | 'CREG' | 'CGREG' | 'CEREG' | 'CSQ_URC' | 'CPIN' | 'CALL_READY' | 'SMS_READY' | 'PB_DONE'; line: string }
  | { code: 'BANNER'; line: string }
  | { code: 'UNKNOWN'; line: string };

/** Lines a modem prints when it (re)starts: its earlier state (echo off, PDU mode, +CNMI) is gone. */
const BANNERS = /^(RDY|\^SYSSTART|START|\+CFUN: 1|\+QIND: "?ready"?|POWER ON)$/i;

/** Parses a line as an unsolicited result code; tolerates extra fields (`+CMTI: "SM",1,"MMS PUSH",2,1`). */
export function parseUrc(line: string): Urc | undefined {
  const l = line.trim();
  const idx = /^\+(CMTI|CDSI):\s*"?([A-Z]{2})"?\s*,\s*(\d+)/.exec(l);
  if (idx) return { code: idx[1] as 'CMTI' | 'CDSI', storage: idx[2]!, index: Number(idx[3]) };
  if (BANNERS.test(l)) return { code: 'BANNER', line: l };
  if (l === 'RING') return { code: 'RING', line: l };
  if (l === 'Call Ready') return { code: 'CALL_READY', line: l };
  if (l === 'SMS Ready') return { code: 'SMS_READY', line: l };
  if (l === 'PB DONE') return { code: 'PB_DONE', line: l };
  if (/^\^SMMEMFULL|^\+CIEV:\s*"?(SMSFULL|MEMFULL)"?,\s*1/i.test(l)) return { code: 'MEMORY_FULL', line: l };
  const plus = /^\+(CREG|CGREG|CEREG|CPIN):/.exec(l);
  if (plus) return { code: plus[1] as 'CREG' | 'CGREG' | 'CEREG' | 'CPIN', line: l };
  if (/^[+^][A-Z0-9]+:?/.test(l)) return { code: 'UNKNOWN', line: l };
  return undefined;
}

/** `+CMGR: <stat>,[<alpha>],<length>` → stat and TPDU length. */
export function parseCmgr(line: string): { stat: number; length: number } | undefined {
  const m = /^\+CMGR:\s*(\d+)\s*,[^,]*,\s*(\d+)\s*$/.exec(line.trim());
  return m ? { stat: Number(m[1]), length: Number(m[2]) } : undefined;
}

/** `+CMGL: <index>,<stat>,[<alpha>],<length>` → index, stat and TPDU length. */
export function parseCmgl(line: string): { index: number; stat: number; length: number } | undefined {
  const m = /^\+CMGL:\s*(\d+)\s*,\s*(\d+)\s*,[^,]*,\s*(\d+)\s*$/.exec(line.trim());
  return m ? { index: Number(m[1]), stat: Number(m[2]), length: Number(m[3]) } : undefined;
}

/** `+CPMS: "SM",3,30,…` (query) or `+CPMS: 3,30,…` (set): the used and total slots of the first (read) memory. */
export function parseCpms(line: string): { used: number; total: number } | undefined {
  const m = /^\+CPMS:\s*(?:"[A-Z]{2}"\s*,\s*)?(\d+)\s*,\s*(\d+)/.exec(line.trim());
  return m ? { used: Number(m[1]), total: Number(m[2]) } : undefined;
}

/** `+CSQ: <rssi>,<ber>` → rssi 0–31 (99 unknown) and dBm (−113 + 2·rssi), null when unknown. */
export function parseCsq(line: string): { rssi: number; dbm: number | null } | undefined {
  const m = /^\+CSQ:\s*(\d+)\s*,\s*(\d+)/.exec(line.trim());
  if (!m) return undefined;
  const rssi = Number(m[1]);
  return { rssi, dbm: rssi >= 0 && rssi <= 31 ? -113 + 2 * rssi : null };
}

/** A PDU line: hex digits only, an even number of them. */
export const isPduLine = (line: string): boolean => /^([0-9A-Fa-f]{2})+$/.test(line.trim());

export interface AtCommand {
  /** The command as sent, without the trailing CR. */
  line: string;
  /** Prefix of its information lines (`+CMGR`); other lines during it are URCs or garbage. */
  prefix?: string;
  /** A PDU line follows each information line (+CMGR, +CMGL). */
  pdu?: boolean;
  /** How long the modem may take (a +CMGL of a full SIM takes longer than AT). */
  timeoutMs: number;
}

/** The commands the driver sends. `storage` is the SMS memory (SM on the SIM, ME/MT in the modem). */
export const commands = {
  at: (timeoutMs: number): AtCommand => ({ line: 'AT', timeoutMs }),
  echoOff: (timeoutMs: number): AtCommand => ({ line: 'ATE0', timeoutMs }),
  verboseErrors: (timeoutMs: number): AtCommand => ({ line: 'AT+CMEE=1', timeoutMs }),
  pin: (timeoutMs: number): AtCommand => ({ line: 'AT+CPIN?', prefix: '+CPIN', timeoutMs }),
  pduMode: (timeoutMs: number): AtCommand => ({ line: 'AT+CMGF=0', timeoutMs }),
  storage: (mem: string, timeoutMs: number): AtCommand => ({ line: `AT+CPMS="${mem}","${mem}","${mem}"`, prefix: '+CPMS', timeoutMs }),
  storageQuery: (timeoutMs: number): AtCommand => ({ line: 'AT+CPMS?', prefix: '+CPMS', timeoutMs }),
  /** Store new messages and report `+CMTI: "<mem>",<index>`. */
  indications: (timeoutMs: number): AtCommand => ({ line: 'AT+CNMI=2,1,0,0,0', timeoutMs }),
  signal: (timeoutMs: number): AtCommand => ({ line: 'AT+CSQ', prefix: '+CSQ', timeoutMs }),
  /** Every stored message, read or not: one read before a crash is no longer "unread". */
  listAll: (timeoutMs: number): AtCommand => ({ line: 'AT+CMGL=4', prefix: '+CMGL', pdu: true, timeoutMs }),
  read: (index: number, timeoutMs: number): AtCommand => ({ line: `AT+CMGR=${index}`, prefix: '+CMGR', pdu: true, timeoutMs }),
  delete: (index: number, timeoutMs: number): AtCommand => ({ line: `AT+CMGD=${index}`, timeoutMs }),
};
