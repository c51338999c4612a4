// Public surface of the load tests: the `stam load` command, the runner, and the pure accounting.
export { loadCommand } from './cli.ts';
export { runLoad } from './run.ts';
export type { LoadOptions, LoadResult } from './run.ts';
export { account, matchPipelineEvents } from './accounting.ts';
export type { Accounting, Arrival, Matching, PipelineEvent, SentEvent } from './accounting.ts';
export type { LoadReport } from './report.ts';
export { listScenarios, loadScenario, planScenario } from './scenario.ts';
export { exitReport, logTail, msgIs, startRole } from './roles.ts';
export type { RoleProcess } from './roles.ts';
export { createRunEnv } from './run-env.ts';
export type { RunEnv } from './run-env.ts';
export { startFaultProxy } from './fault-proxy.ts';
export type { FaultMode, FaultProxy } from './fault-proxy.ts';
