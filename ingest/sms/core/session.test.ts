import { describe, expect, it } from 'vitest';
import { commands, parseCmgl, parseCmgr, parseCpms, parseCsq, parseFinal, parseUrc } from './at.ts';
import { createLineSplitter } from './lines.ts';
import { createAtSession, type SessionEvent } from './session.ts';

const feedAll = (s: ReturnType<typeof createAtSession>, lines: string[]): SessionEvent[] => lines.flatMap((l) => s.feed(l));

describe('AT lines', () => {
  it('splits on CR and LF alike, drops empty lines and cuts a runaway line', () => {
    const sp = createLineSplitter(16);
    expect(sp.push('AT+CMGR=1\r\r\n+CMGR: 0,,27\r\n07').map((e) => e.line)).toEqual(['AT+CMGR=1', '+CMGR: 0,,27']);
    expect(sp.pending).toBe('07');
    expect(sp.push('91\r\nOK\r\n').map((e) => e.line)).toEqual(['0791', 'OK']);
    expect(sp.push('x'.repeat(20))).toEqual([{ line: 'x'.repeat(16), overlong: true }]);
  });

  it('classifies final results, URCs with extra fields, and reply lines', () => {
    expect(parseFinal('OK')).toEqual({ ok: true });
    expect(parseFinal('+CMS ERROR: 322')).toMatchObject({ ok: false, type: '+CMS ERROR', code: 322 });
    expect(parseFinal('+CME ERROR: SIM not inserted')).toMatchObject({ ok: false, type: '+CME ERROR', code: null });
    expect(parseUrc('+CMTI: "SM",1,"MMS PUSH",2,1')).toEqual({ code: 'CMTI', storage: 'SM', index: 1 });
    expect(parseUrc('RDY')).toMatchObject({ code: 'BANNER' });
    expect(parseUrc('+QWEIRD: 1,2')).toMatchObject({ code: 'UNKNOWN' });
    expect(parseUrc('noise')).toBeUndefined();
    expect(parseCmgr('+CMGR: 1,,27')).toEqual({ stat: 1, length: 27 });
    expect(parseCmgr('+CMGR: 0,"",151')).toEqual({ stat: 0, length: 151 });
    expect(parseCmgl('+CMGL: 12,1,,40')).toEqual({ index: 12, stat: 1, length: 40 });
    expect(parseCpms('+CPMS: "SM",30,30,"SM",30,30,"SM",30,30')).toEqual({ used: 30, total: 30 });
    expect(parseCpms('+CPMS: 3,50,3,50,3,50')).toEqual({ used: 3, total: 50 });
    expect(parseCsq('+CSQ: 21,99')).toEqual({ rssi: 21, dbm: -71 });
    expect(parseCsq('+CSQ: 99,99')).toEqual({ rssi: 99, dbm: null });
  });
});

describe('AT command/answer state machine', () => {
  it('collects a +CMGL reply with its PDU lines while a +CMTI arrives in the middle', () => {
    const s = createAtSession();
    expect(s.start(commands.listAll(1000))).toBe('AT+CMGL=4\r');
    const ev = feedAll(s, ['AT+CMGL=4', '+CMGL: 1,1,,20', '0011AA', '+CMTI: "SM",3', '+CMGL: 2,0,,21', '0022BB', 'OK']);
    expect(ev.map((e) => e.type)).toEqual(['echo', 'urc', 'reply']);
    expect(ev[1]).toEqual({ type: 'urc', urc: { code: 'CMTI', storage: 'SM', index: 3 } });
    expect(ev[2]).toMatchObject({ type: 'reply', reply: { ok: true, info: [{ header: '+CMGL: 1,1,,20', pdu: '0011AA' }, { header: '+CMGL: 2,0,,21', pdu: '0022BB' }] } });
    expect(s.busy).toBe(false);
  });

  it('keeps a header whose PDU never came without one, and reports the stray line as garbage', () => {
    const s = createAtSession();
    s.start(commands.read(4, 1000));
    const ev = feedAll(s, ['+CMGR: 0,,20', '~~~noise~~~', 'OK']);
    expect(ev[0]).toMatchObject({ type: 'garbage', line: '~~~noise~~~' });
    expect(ev[1]).toMatchObject({ type: 'reply', reply: { ok: true, info: [{ header: '+CMGR: 0,,20' }] } });
    expect((ev[1] as { reply: { info: { pdu?: string }[] } }).reply.info[0]!.pdu).toBeUndefined();
  });

  it('fails the command in flight when the modem restarts mid-answer, and reports the banner', () => {
    const s = createAtSession();
    s.start(commands.listAll(1000));
    const ev = feedAll(s, ['+CMGL: 1,1,,20', '00', 'RDY']);
    expect(ev.map((e) => e.type)).toEqual(['reply', 'urc']);
    expect(ev[0]).toMatchObject({ reply: { ok: false, type: 'RESET' } });
    expect(s.busy).toBe(false);
  });

  it('ends a command with its error code, and times one out', () => {
    const s = createAtSession();
    s.start(commands.delete(9, 1000));
    expect(s.feed('+CMS ERROR: 321')).toMatchObject([{ type: 'reply', reply: { ok: false, type: '+CMS ERROR', code: 321 } }]);
    s.start(commands.at(1000));
    expect(s.timeout()).toMatchObject([{ type: 'reply', reply: { ok: false, type: 'TIMEOUT' } }]);
    expect(s.timeout()).toEqual([]);
  });

  it('reports a late OK with nothing in flight, an unknown URC and noise without failing', () => {
    const s = createAtSession();
    expect(feedAll(s, ['OK', '+XYZ: 7', '\u0000\u00ff@@', '+CMTI: "ME",0']).map((e) => e.type)).toEqual(['garbage', 'urc', 'garbage', 'urc']);
    expect(() => s.start(commands.at(10))).not.toThrow();
    expect(() => s.start(commands.at(10))).toThrow(/busy/);
  });
});
