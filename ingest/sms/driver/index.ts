// Public surface of the SMS driver (I/O: the serial port, the broker, PostgreSQL): the sms-ingest role.
// The pure half it is built on is ../core/.
export { createSmsDriver, loadTemplates } from './driver.ts';
export type { SmsDriver, SmsDriverOptions } from './driver.ts';
