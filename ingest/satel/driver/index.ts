// Public surface of the Satel driver (I/O: sockets, Redis, PostgreSQL, the broker): the satel-ingest role,
// its arm/disarm command side, and one panel link for tools. The codec it speaks is ../protocol/.

export { createSatelDriver, defaultDriverId } from './driver.ts';
export type { SatelDriver, SatelDriverOptions } from './driver.ts';
export { PanelConnection } from './connection.ts';
export { createPanelPoller, diffState, WATCHED } from './poller.ts';
export type { PanelPoller, PanelState, PanelTarget, PollerDeps } from './poller.ts';

// Arm/disarm commands (the driver side of commands/): executor, the poller's gate, the glue
export { describeRefusal, executeCommand, readBack, settleInterrupted } from './command-executor.ts';
export type { CommandSpec, Outcome } from './command-executor.ts';
export { createCommandGate } from './command-gate.ts';
export type { CommandGate, PanelCommandPort, PanelRequest } from './command-gate.ts';
export { createDriverCommands } from './driver-commands.ts';
export type { DriverCommands, DriverCommandsOptions } from './driver-commands.ts';
