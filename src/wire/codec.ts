import dnsPacket, { type Answer, type Question } from 'dns-packet';

/** A dns-packet part decoder: the value, and `bytes` read by the last call. */
type PartDecoder<T> = ((buf: Buffer, offset: number) => T) & { bytes: number };

/**
 * dns-packet's per-part decoders, which it exports but its type declarations omit: they
 * let the client decode the sections it uses instead of the whole message.
 */
export const parts = dnsPacket as unknown as {
  question: { decode: PartDecoder<Question> };
  answer: { decode: PartDecoder<Answer> };
  name: {
    decode: PartDecoder<string>;
    /** Writes `name` into `buf` at `offset`, uncompressed. */
    encode: (name: string, buf: Buffer, offset: number) => Buffer;
    encodingLength: (name: string) => number;
  };
  /** RDATA decoders: `offset` points at RDLENGTH. */
  a: { decode: PartDecoder<string> };
  aaaa: { decode: PartDecoder<string> };
  ptr: { decode: PartDecoder<string> };
  srv: { decode: PartDecoder<{ priority: number; weight: number; port: number; target: string }> };
};
