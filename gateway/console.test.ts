import { describe, expect, it } from 'vitest';
import { COMMAND_ACTIONS } from '../commands/index.ts';
import { PANEL_ACTIONS } from '../console/src/queue.ts';

describe('operator console (console/)', () => {
  it('offers only panel commands the API accepts', () => {
    expect(PANEL_ACTIONS.length).toBeGreaterThan(0);
    for (const a of PANEL_ACTIONS) expect(COMMAND_ACTIONS).toContain(a);
  });
});
