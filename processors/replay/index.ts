// Replay of the event topics by time range (what-if in memory, rebuild into a database, export), and the
// comparison with what the pipeline really made of the range.
export { runReplay } from './replay.ts';
export type { ReplayMode, ReplayOptions, ReplayResult } from './replay.ts';
export { compare, htmlReport, table } from './compare.ts';
export type { CompareRow, Comparison, Tally } from './compare.ts';
export { actualAlarms, objectCodes } from './history.ts';
export type { ActualTally } from './history.ts';
export { readWhatIfFile } from './settings.ts';
export type { WhatIfPolicy, WhatIfTally } from './what-if.ts';
