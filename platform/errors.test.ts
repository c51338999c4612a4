import { describe, expect, it } from 'vitest';
import { keepsLink, StamError } from './errors.ts';

describe('error catalogue flags', () => {
  it('keeps a panel link after Busy!, a bad CRC, a malformed frame or an unexpected answer, not after a timeout or a lost link', () => {
    for (const code of ['E_SATEL_BUSY', 'E_SATEL_CRC', 'E_SATEL_FRAME', 'E_SATEL_PROTOCOL'] as const) expect(keepsLink(new StamError(code))).toBe(true);
    for (const code of ['E_SATEL_TIMEOUT', 'E_SATEL_LINK', 'E_SATEL_CRYPTO', 'E_SATEL_LEASE', 'E_CONFIG'] as const) expect(keepsLink(new StamError(code))).toBe(false);
  });

  it('decides by the code alone, and knows nothing of codes outside the catalogue', () => {
    expect(keepsLink({ code: 'E_SATEL_BUSY' })).toBe(true);
    expect(keepsLink(Object.assign(new Error('reset'), { code: 'ECONNRESET' }))).toBe(false);
    expect(keepsLink({ code: 'toString' })).toBe(false);
    expect(keepsLink(null)).toBe(false);
  });
});
