import { isIPv4, isIPv6 } from 'node:net';
import { type Answer, type DecodedPacket, decode, encode, RECURSION_DESIRED } from 'dns-packet';

/** The record types this library asks for. */
export type QueryType = 'A' | 'AAAA' | 'SRV' | 'PTR';

/** EDNS0 payload size recommended by DNS Flag Day 2020: no IP fragmentation on any path. */
export const DEFAULT_UDP_PAYLOAD_SIZE = 1232;

const HEADER_BYTES = 12;
const QR_BIT = 0x8000;
const TC_BIT = 0x0200;
const OPCODE_MASK = 0x7800;

/** Lower-case, without the trailing dot: the one spelling names are compared in. */
export function canonicalName(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

/** A query message with an EDNS0 OPT record offering `udpPayloadSize` bytes. */
export function encodeQuery(id: number, name: string, type: QueryType, udpPayloadSize: number): Buffer {
  return encode({
    type: 'query',
    id,
    flags: RECURSION_DESIRED,
    questions: [{ type, name, class: 'IN' }],
    additionals: [
      {
        type: 'OPT',
        name: '.',
        udpPayloadSize,
        extendedRcode: 0,
        ednsVersion: 0,
        flags: 0,
        flag_do: false,
        options: [],
      },
    ],
  });
}

/** What a received message is to the query that waits for it. */
export type Verdict =
  /** A clean answer to this question. */
  | { kind: 'answer'; message: DecodedPacket }
  /** This question's answer, cut short (TC=1): ask again over TCP. */
  | { kind: 'truncated' }
  /** Not an answer to this question (wrong ID, a query, another question): drop it. */
  | { kind: 'foreign' }
  /** Carries this query's ID and QR=1 but does not decode cleanly: drop it, remember it. */
  | { kind: 'malformed'; reason: string };

/**
 * Decides whether `buf` answers the query `id` for `name`/`type`. Nothing here throws:
 * any packet, however broken, gets a verdict.
 */
export function judgeResponse(buf: Buffer, id: number, name: string, type: QueryType): Verdict {
  if (buf.length < HEADER_BYTES || buf.readUInt16BE(0) !== id) return { kind: 'foreign' };
  const flags = buf.readUInt16BE(2);
  if ((flags & QR_BIT) === 0 || (flags & OPCODE_MASK) !== 0) return { kind: 'foreign' };
  // A truncated answer is never used: its question is all that needs checking.
  if ((flags & TC_BIT) !== 0) return questionMatches(buf, name, type) ? { kind: 'truncated' } : { kind: 'foreign' };
  let message: DecodedPacket;
  try {
    message = decode(buf);
  } catch (err) {
    return { kind: 'malformed', reason: err instanceof Error ? err.message : String(err) };
  }
  const question = message.questions?.length === 1 ? message.questions[0] : undefined;
  if (
    question === undefined ||
    question.type !== type ||
    (question.class ?? 'IN') !== 'IN' ||
    canonicalName(question.name) !== canonicalName(name)
  ) {
    return { kind: 'foreign' };
  }
  // dns-packet trusts RDLENGTH only for some types and may read past the end: the
  // message walked by its own lengths must end where the decoder stopped.
  if (walkRecords(buf) !== decode.bytes) return { kind: 'malformed', reason: 'record lengths do not add up' };
  const problem = recordProblem(message.answers) ?? recordProblem(message.additionals);
  if (problem !== undefined) return { kind: 'malformed', reason: problem };
  return { kind: 'answer', message };
}

// The question section of an undecodable message, checked without trusting the rest.
function questionMatches(buf: Buffer, name: string, type: QueryType): boolean {
  if (buf.readUInt16BE(4) !== 1) return false;
  try {
    const copy = Buffer.from(buf.subarray(0, Math.min(buf.length, HEADER_BYTES + 260)));
    copy.writeUInt16BE(1, 4);
    copy.fill(0, 6, 12);
    const { questions } = decode(copy);
    const q = questions?.[0];
    return q !== undefined && q.type === type && canonicalName(q.name) === canonicalName(name);
  } catch {
    return false;
  }
}

// The decoded values themselves, in case a lie about lengths still added up.
function recordProblem(records: Answer[] | undefined): string | undefined {
  for (const record of records ?? []) {
    if (record.type === 'A' && !(typeof record.data === 'string' && isIPv4(record.data))) {
      return `bad A record data for ${record.name}`;
    }
    if (record.type === 'AAAA' && !(typeof record.data === 'string' && isIPv6(record.data))) {
      return `bad AAAA record data for ${record.name}`;
    }
    if (record.type === 'SRV' && typeof record.data.target !== 'string') {
      return `bad SRV record data for ${record.name}`;
    }
  }
  return undefined;
}

const TYPE_A = 1;
const TYPE_AAAA = 28;

/** Skips a (possibly compressed) name; -1 when it runs off the end or is not a name. */
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

/**
 * The length of the message as its own counts and RDLENGTH fields describe it, or -1
 * when they run past the end or an A/AAAA record has the wrong data length.
 */
function walkRecords(buf: Buffer): number {
  let offset = HEADER_BYTES;
  const questions = buf.readUInt16BE(4);
  const records = buf.readUInt16BE(6) + buf.readUInt16BE(8) + buf.readUInt16BE(10);
  for (let i = 0; i < questions; i++) {
    offset = skipName(buf, offset);
    if (offset < 0 || offset + 4 > buf.length) return -1;
    offset += 4;
  }
  for (let i = 0; i < records; i++) {
    offset = skipName(buf, offset);
    if (offset < 0 || offset + 10 > buf.length) return -1;
    const recordType = buf.readUInt16BE(offset);
    const rdlength = buf.readUInt16BE(offset + 8);
    if ((recordType === TYPE_A && rdlength !== 4) || (recordType === TYPE_AAAA && rdlength !== 16)) return -1;
    offset += 10 + rdlength;
    if (offset > buf.length) return -1;
  }
  return offset;
}

/** The smallest TTL of `records`, or `fallback` when there are none. */
export function minTtl(records: readonly Answer[], fallback: number): number {
  let ttl = Number.POSITIVE_INFINITY;
  for (const record of records) {
    if (record.type !== 'OPT' && record.ttl !== undefined && record.ttl < ttl) ttl = record.ttl;
  }
  return ttl === Number.POSITIVE_INFINITY ? fallback : ttl;
}

/**
 * Records of `type` that answer `name`, following a CNAME chain inside the answer
 * section (bounded, so a CNAME loop ends).
 */
export function answersFor(message: DecodedPacket, name: string, type: QueryType): Answer[] {
  const answers = message.answers ?? [];
  const owners = new Set([canonicalName(name)]);
  for (let hop = 0; hop < 8; hop++) {
    let grew = false;
    for (const record of answers) {
      if (record.type === 'CNAME' && owners.has(canonicalName(record.name))) {
        const target = canonicalName(record.data);
        if (!owners.has(target)) {
          owners.add(target);
          grew = true;
        }
      }
    }
    if (!grew) break;
  }
  return answers.filter((record) => record.type === type && owners.has(canonicalName(record.name)));
}

/** The negative-caching TTL of an NXDOMAIN/NODATA answer (RFC 2308): min(SOA TTL, SOA MINIMUM). */
export function negativeTtl(message: DecodedPacket): number {
  for (const record of message.authorities ?? []) {
    if (record.type === 'SOA') return Math.min(record.ttl ?? 0, record.data.minimum ?? 0);
  }
  return 0;
}
