import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Type } from '@sinclair/typebox';
import { parse as parseYaml } from 'yaml';
import { parseValue } from '../../platform/validate.ts';
import type { Rule } from '../../domain/index.ts';
import { readRulesFile } from '../rules.ts';
import type { WhatIfPolicy } from './what-if.ts';

/** A what-if file: the settings to try on the replayed range; what it leaves out is as configured now. */
const WhatIfFile = Type.Object({
  bundling_window_s: Type.Optional(Type.Integer({ minimum: 0, description: 'events of one zone or sensor join an open alarm whose last event is this recent' })),
  flood_threshold: Type.Optional(Type.Integer({ minimum: 1, description: 'alarms of one object within flood_window_s before a flood alarm absorbs the rest' })),
  flood_window_s: Type.Optional(Type.Integer({ minimum: 1 })),
  rules_file: Type.Optional(Type.String({ minLength: 1, description: 'alarm rules in the format of config/alarm-rules.yaml, relative to this file' })),
}, { additionalProperties: false });

/** The policy of a what-if: the file's settings over the current ones (`current`, with the rules of the alarm_rules table). */
export function readWhatIfFile(path: string, current: WhatIfPolicy): { policy: WhatIfPolicy; rulesFrom: string } {
  const f = parseValue(WhatIfFile, parseYaml(readFileSync(path, 'utf8')), { where: path, code: 'E_CONFIG' });
  let rules: readonly Rule[] = current.rules;
  let rulesFrom = 'the alarm_rules table';
  if (f.rules_file) {
    const file = resolve(dirname(path), f.rules_file);
    rules = readRulesFile(file);
    rulesFrom = file;
  }
  return {
    policy: {
      rules,
      bundlingWindowMs: f.bundling_window_s === undefined ? current.bundlingWindowMs : f.bundling_window_s * 1000,
      flood: {
        threshold: f.flood_threshold ?? current.flood.threshold,
        windowMs: f.flood_window_s === undefined ? current.flood.windowMs : f.flood_window_s * 1000,
      },
    },
    rulesFrom,
  };
}
