import { describe, expect, it } from 'vitest';
import { eventText } from './details.ts';

describe('event text in the alarm detail', () => {
  it('an SMS event shows the text as received, with its sender and reading', () => {
    expect(eventText({ payload: { sender: '+48600100200', raw_text: 'ALARM T1 -12.5C > -18C', kind: 'TEMP_HIGH', value: -12.5, unit: 'C' } }))
      .toBe('SMS +48600100200: „ALARM T1 -12.5C > -18C” (-12.5 C)');
  });
  it('a panel event shows its own fields, not the bookkeeping', () => {
    expect(eventText({ payload: { kind: 'ZONE_ALARM', panel_id: 1, object_number: 5, event_id: 'x', dedup_key: 'y', fencing: 1, observed_at: 1, trace: null } }))
      .toBe('kind: ZONE_ALARM, panel_id: 1, object_number: 5');
    expect(eventText({ payload: null })).toBe('');
  });
});
