/** A DNS message as sent over TCP (RFC 7766): its 2-byte length, then the message. */
export function frame(message: Buffer): Buffer {
  const framed = Buffer.allocUnsafe(2 + message.length);
  framed.writeUInt16BE(message.length, 0);
  message.copy(framed, 2);
  return framed;
}

/** Collects the chunks of a DNS-over-TCP stream and hands back each whole message. */
export class FrameReader {
  private buffered: Buffer = Buffer.alloc(0);

  /** Adds `chunk`; returns the messages it completed (possibly none). */
  push(chunk: Buffer): Buffer[] {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const messages: Buffer[] = [];
    while (this.buffered.length >= 2) {
      const length = this.buffered.readUInt16BE(0);
      if (this.buffered.length < 2 + length) break;
      messages.push(this.buffered.subarray(2, 2 + length));
      this.buffered = this.buffered.subarray(2 + length);
    }
    return messages;
  }
}
