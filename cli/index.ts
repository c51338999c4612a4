// The `stam` command's parts that others use: the supervisor of `stam all` (its integration test).
export { createSupervisor } from './supervisor.ts';
