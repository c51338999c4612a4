/**
 * The serial port under the modem link: the real `serialport` package (13.x, prebuilt bindings), bytes in
 * as latin1 text (each byte one character, so noise stays visible), and one `closed` callback however the
 * port goes — closed by us, the device unplugged, or a write failing with EIO (a pty whose other end left).
 */
import { SerialPort } from 'serialport';

export interface ModemPort {
  write(text: string): Promise<void>;
  close(): Promise<void>;
  readonly isOpen: boolean;
}

export function openModemPort(o: { path: string; baudRate: number; onData: (text: string) => void; onClosed: (reason: string) => void }): Promise<ModemPort> {
  return new Promise((resolve, reject) => {
    const port = new SerialPort({ path: o.path, baudRate: o.baudRate, autoOpen: false, lock: false });
    let closedReported = false;
    const closed = (reason: string) => {
      if (closedReported) return;
      closedReported = true;
      o.onClosed(reason);
    };
    port.on('data', (d: Buffer) => o.onData(d.toString('latin1')));
    port.on('error', (err: Error) => closed(`port error: ${err.message}`));
    port.on('close', (err: (Error & { disconnected?: boolean }) | null) => closed(err ? `port closed: ${err.message}${err.disconnected ? ' (device gone)' : ''}` : 'port closed'));
    port.open((err) => {
      if (err) { reject(err); return; }
      resolve({
        get isOpen() { return port.isOpen; },
        write: (text) => new Promise<void>((res, rej) => {
          port.write(Buffer.from(text, 'latin1'), (e) => (e ? rej(e) : undefined));
          port.drain((e) => (e ? rej(e) : res()));
        }),
        close: () => new Promise<void>((res) => {
          closedReported = true;
          if (!port.isOpen) { res(); return; }
          port.close(() => res());
        }),
      });
    });
  });
}
