import dnsPacket, { type Answer, encode, RECURSION_DESIRED } from 'dns-packet';
import { type DnsRecord, isDnsRecord } from './records.js';

/** The record types this library asks for. */
export type QueryType = 'A' | 'AAAA' | 'SRV' | 'PTR';

/** EDNS0 payload size recommended by DNS Flag Day 2020: no IP fragmentation on any path. */
export const DEFAULT_UDP_PAYLOAD_SIZE = 1232;

const HEADER = 12;
const QR = 0x8000;
const OPCODE = 0x7800;
const TC = 0x0200;
const AA = 0x0400;
const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];

/** Lower-case, without the trailing dot: the one spelling names are compared in. */
export function canonicalName(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

/** A checked question, encoded once: a client asks the same few again and again. */
export interface Question {
  /** Canonical name. */
  readonly name: string;
  readonly type: QueryType;
  /** The query message under ID 0; each attempt sends a copy under its own ID. */
  readonly message: Buffer;
}

/** A query for `name` (checked, canonical) with RD and an EDNS0 OPT record offering `payloadSize` bytes. */
export function encodeQuestion(name: string, type: QueryType, payloadSize: number): Question {
  const message = encode({
    type: 'query',
    id: 0,
    flags: RECURSION_DESIRED,
    questions: [{ type, name, class: 'IN' }],
    additionals: [
      {
        type: 'OPT',
        name: '.',
        udpPayloadSize: payloadSize,
        extendedRcode: 0,
        ednsVersion: 0,
        flags: 0,
        flag_do: false,
        options: [],
      },
    ],
  });
  return { name, type, message };
}

/** A copy of the question's query under `id`. */
export function withId(question: Question, id: number): Buffer {
  const message = Buffer.from(question.message);
  message.writeUInt16BE(id, 0);
  return message;
}

/** The parts of a clean answer the client uses. */
export interface Reply {
  rcode: string;
  authoritative: boolean;
  answers: Answer[];
  authorities: Answer[];
  /** The Additional section's records of the types DnsRecord describes (OPT and others left out). */
  additionals: DnsRecord[];
}

/** What a received message is to the query waiting under its ID. */
export type Verdict =
  /** A clean answer to this question. */
  | { kind: 'answer'; reply: Reply }
  /** This question's answer cut short (TC=1): it is asked again over TCP, never used. */
  | { kind: 'truncated' }
  /** Not an answer to this question (a query, another question): dropped. */
  | { kind: 'foreign' }
  /** This question's answer, but broken: dropped, and said if nothing better comes. */
  | { kind: 'malformed'; reason: string };

const FOREIGN: Verdict = { kind: 'foreign' };
const TRUNCATED: Verdict = { kind: 'truncated' };

/**
 * Judges `buf`, a message that came under this query's ID: it must be a response (QR=1,
 * standard query) repeating our question, letters in any case (RFC 4343). Nothing throws: any
 * packet, however broken, gets a verdict.
 */
export function judge(buf: Buffer, question: Question): Verdict {
  if (buf.length < HEADER) return FOREIGN;
  const flags = buf.readUInt16BE(2);
  if ((flags & QR) === 0 || (flags & OPCODE) !== 0 || !repeatsQuestion(buf, question.message)) return FOREIGN;
  if ((flags & TC) !== 0) return TRUNCATED;
  const layout = walk(buf);
  if (typeof layout === 'string') return { kind: 'malformed', reason: layout };
  const { name } = question;
  try {
    const answers = readRecords(buf, layout.answers, buf.readUInt16BE(6), name);
    const bad = answers.find((record) => !sane(record));
    if (bad !== undefined) return { kind: 'malformed', reason: `bad ${bad.type} record data for ${bad.name}` };
    const authorities = readRecords(buf, layout.authorities, buf.readUInt16BE(8), name);
    const additionals = readRecords(buf, layout.additionals, buf.readUInt16BE(10), name);
    return {
      kind: 'answer',
      reply: {
        rcode: RCODES[flags & 0x0f] ?? `RCODE${flags & 0x0f}`,
        authoritative: (flags & AA) !== 0,
        answers,
        authorities,
        // Additional records are a shortcut: any that do not hold up are not used.
        additionals: additionals.filter((r) => isDnsRecord(r) && sane(r)) as unknown as DnsRecord[],
      },
    };
  } catch (err) {
    return { kind: 'malformed', reason: err instanceof Error ? err.message : String(err) };
  }
}

/** One of dns-packet's decoders: the value, and the bytes its last call read. */
type PartDecoder<T> = ((buf: Buffer, offset: number) => T) & { bytes: number };

/**
 * dns-packet's decoders of one record and of one type's RDATA, which it exports although its
 * type declarations do not (the one place the client goes past its documented API). The client
 * reads answers with them instead of `decode()`, which builds every owner name again from its
 * labels: nearly every owner in an answer is a pointer to the question, whose name the client
 * has, and that rebuilding was most of a query's cost (docs/performance.md). The decoding of
 * every record and every RDATA is still dns-packet's.
 */
const parts = dnsPacket as unknown as {
  answer: { decode: PartDecoder<Answer> };
  a: { decode: PartDecoder<string> };
  aaaa: { decode: PartDecoder<string> };
  srv: { decode: PartDecoder<{ priority: number; weight: number; port: number; target: string }> };
  ptr: { decode: PartDecoder<string> };
};
const RDATA = new Map<number, { type: 'A' | 'AAAA' | 'SRV' | 'PTR'; decoder: PartDecoder<unknown> }>([
  [1, { type: 'A', decoder: parts.a.decode }],
  [28, { type: 'AAAA', decoder: parts.aaaa.decode }],
  [33, { type: 'SRV', decoder: parts.srv.decode }],
  [12, { type: 'PTR', decoder: parts.ptr.decode }],
]);
const POINTER_TO_QUESTION = 0xc00c;
const OPT = 41;

/**
 * `count` records from `offset`, as dns-packet decodes them; a record whose owner points to the
 * question gets the question's `name`, and OPT records are skipped (nothing here reads them).
 */
function readRecords(buf: Buffer, offset: number, count: number, name: string): Answer[] {
  const records: Answer[] = [];
  let at = offset;
  for (let i = 0; i < count; i++) {
    const type = buf.readUInt16BE(at + 2);
    const known = buf.readUInt16BE(at) === POINTER_TO_QUESTION ? RDATA.get(type) : undefined;
    if (known !== undefined) {
      const klass = buf.readUInt16BE(at + 4);
      const data = known.decoder(buf, at + 10);
      const flush = (klass & 0x8000) !== 0;
      records.push({ name, type: known.type, ttl: buf.readUInt32BE(at + 6), class: 'IN', flush, data } as Answer);
      at += 10 + known.decoder.bytes;
    } else if (buf[at] === 0 && buf.readUInt16BE(at + 1) === OPT) {
      at += 11 + buf.readUInt16BE(at + 9);
    } else {
      records.push(parts.answer.decode(buf, at));
      at += parts.answer.decode.bytes;
    }
  }
  return records;
}

/** Whether the message holds one question, byte for byte ours but for the case of letters. */
function repeatsQuestion(buf: Buffer, query: Buffer): boolean {
  if (buf.readUInt16BE(4) !== 1) return false;
  // Our question section: from the header to the OPT record (name, type, class).
  const end = query.length - 11;
  if (buf.length < end) return false;
  for (let i = HEADER; i < end; i++) {
    const ours = query[i] as number;
    const theirs = buf[i] as number;
    if (ours === theirs) continue;
    const folded = ours | 0x20;
    // Only where we sent a letter may the case differ; lengths, type and class must match.
    if (folded < 0x61 || folded > 0x7a || (theirs | 0x20) !== folded) return false;
  }
  return true;
}

// Data dns-packet gives for records of the types the client reads, checked.
function sane(record: Answer): boolean {
  if (record.type === 'A' || record.type === 'AAAA') return typeof record.data === 'string';
  if (record.type === 'SRV') return typeof record.data?.target === 'string';
  return true;
}

/** Where each section of a message starts. */
interface Layout {
  answers: number;
  authorities: number;
  additionals: number;
}

/**
 * The message walked by its own counts and lengths, or why it does not add up: dns-packet
 * reads an A record's 4 bytes whatever its RDLENGTH says, so a lie there would shift every
 * record after it.
 */
function walk(buf: Buffer): Layout | string {
  let offset = skipName(buf, HEADER);
  if (offset < 0 || offset + 4 > buf.length) return 'the question runs past the end';
  offset += 4;
  const starts: number[] = [];
  for (let section = 0; section < 3; section++) {
    starts.push(offset);
    for (let i = buf.readUInt16BE(6 + 2 * section); i > 0; i--) {
      offset = skipName(buf, offset);
      if (offset < 0 || offset + 10 > buf.length) return 'a record runs past the end';
      const type = buf.readUInt16BE(offset);
      const length = buf.readUInt16BE(offset + 8);
      if ((type === 1 && length !== 4) || (type === 28 && length !== 16)) return `an address record of ${length} bytes`;
      offset += 10 + length;
      if (offset > buf.length) return 'a record runs past the end';
    }
  }
  const [answers = 0, authorities = 0, additionals = 0] = starts;
  return { answers, authorities, additionals };
}

/** Skips a (possibly compressed) name; -1 when it runs off the end or is no name. */
function skipName(buf: Buffer, start: number): number {
  let offset = start;
  for (;;) {
    const length = buf[offset];
    if (length === undefined) return -1;
    if (length === 0) return offset + 1;
    if ((length & 0xc0) === 0xc0) return offset + 2 <= buf.length ? offset + 2 : -1;
    if ((length & 0xc0) !== 0) return -1;
    offset += length + 1;
  }
}

/** Records of `type` that answer `name`, following a CNAME chain inside the answer (bounded). */
export function answersFor(answers: readonly Answer[], name: string, type: QueryType): Answer[] {
  // The usual answer: records of the type asked, owned by the name asked (as read, the question's).
  if (answers.every((record) => record.type === type && record.name === name)) return answers as Answer[];
  const owners = new Set([name]);
  for (let hop = 0; hop < 8; hop++) {
    const before = owners.size;
    for (const record of answers) {
      if (record.type === 'CNAME' && owners.has(canonicalName(record.name))) owners.add(canonicalName(record.data));
    }
    if (owners.size === before) break;
  }
  return answers.filter((record) => record.type === type && owners.has(canonicalName(record.name)));
}

/** The smallest TTL of `records`, or `fallback` when there are none. */
export function minTtl(records: readonly { type: string; ttl?: number | undefined }[], fallback: number): number {
  let ttl = Number.POSITIVE_INFINITY;
  for (const record of records) if (record.ttl !== undefined && record.ttl < ttl) ttl = record.ttl;
  return ttl === Number.POSITIVE_INFINITY ? fallback : ttl;
}

/** The negative-caching TTL of an NXDOMAIN/NODATA answer (RFC 2308): min(SOA TTL, SOA MINIMUM). */
export function negativeTtl(authorities: readonly Answer[]): number {
  for (const record of authorities) {
    if (record.type === 'SOA') return Math.min(record.ttl ?? 0, record.data.minimum ?? 0);
  }
  return 0;
}
