// Public surface of the Satel driver (I/O: sockets, Redis, PostgreSQL, the broker): the satel-ingest role,
// its arm/disarm command side, and one panel link for tools. The codec it speaks is ../protocol/.

export { createSatelDriver, defaultDriverId } from './driver.ts';
export type { SatelDriver, SatelDriverOptions } from './driver.ts';
export { PanelConnection } from './connection.ts';

// Arm/disarm commands (the driver side of commands/)
export { createDriverCommands } from './driver-commands.ts';
export type { DriverCommands } from './driver-commands.ts';
