import { describe, expect, it } from 'vitest';
import { decodeDeliver, encodeDeliver } from '../../ingest/sms/core/index.ts';
import { createModem } from './modem.ts';
import { createSmsStore } from './store.ts';

function rig(capacity = 5) {
  let out = '';
  const deleted: number[] = [];
  const store = createSmsStore({ capacity, firstIndex: 1 });
  const modem = createModem({ store, write: (d) => { out += d; }, onDelete: (i) => deleted.push(i) });
  const send = async (cmd: string) => { out = ''; modem.input(`${cmd}\r`); await new Promise((r) => setTimeout(r, 5)); return out; };
  const sms = (text: string) => encodeDeliver({ sender: '+48600100200', text, smscTimeMs: Date.UTC(2025, 5, 15, 10, 30), smscTzMinutes: 120 });
  return { store, modem, send, sms, deleted, clear: () => { out = ''; }, get out() { return out; } };
}

describe('modem simulator: AT over the line', () => {
  it('echoes until ATE0, refuses text mode, and lists, reads and deletes in PDU mode', async () => {
    const r = rig();
    expect(await r.send('AT')).toBe('AT\r\r\nOK\r\n');
    expect(await r.send('ATE0')).toBe('ATE0\r\r\nOK\r\n');
    expect(await r.send('AT+CMGF=1')).toBe('\r\n+CMS ERROR: 303\r\n');
    expect(await r.send('AT+CMGL=4')).toBe('\r\n+CMS ERROR: 302\r\n');
    await r.send('AT+CMGF=0');
    const { pdu, tpduLength } = r.sms('Efento: ALARM');
    expect(r.modem.receive({ pdu, tpduLength })).toBe(1);
    expect(await r.send('AT+CMGR=1')).toBe(`\r\n+CMGR: 0,,${tpduLength}\r\n\r\n${pdu}\r\n\r\nOK\r\n`);
    expect(decodeDeliver(pdu, tpduLength).text).toBe('Efento: ALARM');
    expect(await r.send('AT+CMGL=4')).toContain(`+CMGL: 1,1,,${tpduLength}`);
    expect(await r.send('AT+CMGD=1')).toBe('\r\nOK\r\n');
    expect(await r.send('AT+CMGD=1')).toBe('\r\n+CMS ERROR: 321\r\n');
    expect(r.deleted).toEqual([1]);
  });

  it('pushes +CMTI only after AT+CNMI, and a full store holds new messages in the network until a slot frees', async () => {
    const r = rig(1);
    await r.send('AT+CMGF=0');
    r.modem.receive(r.sms('one'));
    expect(r.out).not.toContain('+CMTI');
    await r.send('AT+CNMI=2,1,0,0,0');
    expect(r.modem.receive(r.sms('two'))).toBeUndefined();
    expect(r.store.queued).toBe(1);
    expect(await r.send('AT+CPMS?')).toContain('+CPMS: "SM",1,1');
    const after = await r.send('AT+CMGD=1');
    expect(after).toContain('OK');
    expect(after).toContain('+CMTI: "SM",1');
    expect(r.store.queued).toBe(0);
  });

  it('a reset in the middle of an answer cuts it off, goes silent, says RDY and forgets echo off and PDU mode', async () => {
    const r = rig();
    await r.send('ATE0');
    await r.send('AT+CMGF=0');
    r.modem.receive(r.sms('x'));
    r.modem.reset(30, true);
    const cut = await r.send('AT+CMGL=4');
    expect(cut).not.toContain('OK');
    expect(await r.send('AT')).toBe('');
    await new Promise((res) => setTimeout(res, 40));
    expect(r.out).toContain('RDY');
    expect(r.modem.state).toMatchObject({ echo: true, pduMode: false, indications: false });
    expect(r.store.used).toBe(1); // the SIM keeps its messages
  });

  it('injects garbage before the next answer and delays a slow command', async () => {
    const r = rig();
    r.modem.garbageInto(1);
    const g = await r.send('AT');
    expect(g).toMatch(/~~#\$%[\s\S]*OK/);
    r.modem.delay('CMGD', 30);
    r.clear();
    r.modem.input('AT+CMGD=1\r');
    await new Promise((res) => setTimeout(res, 10));
    expect(r.out).toBe('AT+CMGD=1\r');
  });
});
