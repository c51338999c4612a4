import { readFileSync } from 'node:fs';
import { Script } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { COMMAND_ACTIONS } from '../commands/index.ts';

const html = readFileSync(new URL('./public/index.html', import.meta.url), 'utf8');
const script = /<script type="module">([\s\S]*?)<\/script>/.exec(html)?.[1] ?? '';

describe('operator console (public/index.html)', () => {
  it('its script compiles (a syntax error would leave operators with a blank queue)', () => {
    expect(script.length).toBeGreaterThan(1000);
    expect(() => new Script(script, { filename: 'index.html' })).not.toThrow();
  });

  it('offers only panel commands the API accepts', () => {
    const listed = /const PANEL_ACTIONS = (\[[^\]]*\])/.exec(script)?.[1];
    expect(listed).toBeDefined();
    const actions = JSON.parse(listed!.replace(/'/g, '"')) as string[];
    expect(actions.length).toBeGreaterThan(0);
    for (const a of actions) expect(COMMAND_ACTIONS).toContain(a);
  });
});
