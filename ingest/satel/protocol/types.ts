/** One unframed integration-protocol message: the command byte and its data (what a frame carries). */
export interface Message {
  readonly cmd: number;
  readonly data: Buffer;
}

export function message(cmd: number, data: Uint8Array = new Uint8Array(0)): Message {
  return { cmd, data: Buffer.from(data) };
}
