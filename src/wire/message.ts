import { type Answer, encode, RECURSION_DESIRED } from 'dns-packet';
import { parts } from './codec.js';

/** The record types this library asks for. */
export type QueryType = 'A' | 'AAAA' | 'SRV' | 'PTR';

/** EDNS0 payload size recommended by DNS Flag Day 2020: no IP fragmentation on any path. */
export const DEFAULT_UDP_PAYLOAD_SIZE = 1232;

const HEADER_BYTES = 12;
const QR_BIT = 0x8000;
const TC_BIT = 0x0200;
const OPCODE_MASK = 0x7800;

/**
 * The big-endian 16-bit number at `offset` of a message, which the caller has found inside
 * it. Buffer's readUInt16BE checks its argument through a wrapper call on every read (about
 * 1% of the process in a profile of A queries at c=64).
 */
export function u16(buf: Uint8Array, offset: number): number {
  return ((buf[offset] as number) << 8) | (buf[offset + 1] as number);
}

/** The big-endian 32-bit number at `offset`, found inside the message. */
function u32(buf: Uint8Array, offset: number): number {
  return u16(buf, offset) * 0x10000 + u16(buf, offset + 2);
}

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

/** The parts of a response the client uses. */
export class Response {
  private decodedAdditionals: Answer[] | undefined;

  constructor(
    readonly rcode: string,
    readonly authoritative: boolean,
    readonly answers: Answer[],
    /** Decoded only when the answer section is empty (for the negative-caching TTL). */
    readonly authorities: Answer[],
    private readonly buf: Buffer,
    private readonly layout: Layout,
    private readonly question: string,
    private readonly names: NameCache | undefined,
  ) {}

  /**
   * The Additional section without OPT, decoded on first use (only SRV answers carry
   * anything the client uses there). Records that do not decode or hold bad data make it
   * empty: Additional records are a shortcut, and without them targets are looked up.
   */
  additionals(): Answer[] {
    if (this.decodedAdditionals === undefined) {
      const { buf, layout } = this;
      try {
        const records = decodeRecords(
          buf,
          layout.additionals,
          buf.readUInt16BE(10),
          layout.end,
          this.question,
          this.names,
        ).filter((r) => r.type !== 'OPT');
        this.decodedAdditionals = recordProblem(records) === undefined ? records : NO_RECORDS;
      } catch {
        this.decodedAdditionals = NO_RECORDS;
      }
    }
    return this.decodedAdditionals;
  }
}

/** A checked question, encoded once: the query message (ID 0) and its question section. */
export interface EncodedQuestion {
  /** Canonical name. */
  name: string;
  type: QueryType;
  /** The whole query; each use copies it and writes its own ID. */
  template: Buffer;
  /** The question section as sent, which an answer must repeat. */
  section: Buffer;
  /** Kept by the client and asked again and again (see {@link Recent}). */
  kept: boolean;
  /** The SRV targets of its recent answers, by their own labels. */
  targets: Recent<string, RememberedTarget> | undefined;
  /** The A/AAAA addresses of its recent answers (a kept question's), by their last 30 bits. */
  addresses: Recent<number, RememberedAddress> | undefined;
}

/**
 * What a question's recent answers held, so that a record repeated in the next answer is
 * read as the string it was read as before, not decoded and built again: a question asked
 * again and again (a watcher's) gets the same records, which are then the same strings
 * from answer to answer, already hashed wherever they are looked up. What pods took with
 * them is forgotten: once more is remembered than twice the latest answer's records (and
 * 16), what the latest answer did not hold goes. Memory follows the service, not its history.
 */
class Recent<K, V extends { seen: number }> {
  readonly byKey = new Map<K, V>();
  /** Answers decoded so far. */
  answers = 0;

  /** After an answer with `count` records: forgets what it did not hold, if much. */
  prune(count: number): void {
    const { byKey, answers } = this;
    if (byKey.size <= 2 * count + 16) return;
    for (const [key, value] of byKey) if (value.seen !== answers) byKey.delete(key);
  }
}

/** A remembered SRV target, and the last answer that named it. */
class RememberedTarget {
  constructor(
    readonly name: string,
    public seen: number,
  ) {}
}

/**
 * A remembered address: its text, and its bytes as 32-bit words to tell it from another
 * address with the same last 30 bits (`w3`, the last word; `w0`-`w2`, the first three of
 * an IPv6 address, 0 for IPv4).
 */
class RememberedAddress {
  constructor(
    readonly text: string,
    readonly v6: boolean,
    readonly w0: number,
    readonly w1: number,
    readonly w2: number,
    readonly w3: number,
    public seen: number,
  ) {}
}

// The query around the question name, by type and payload size: dns-packet's encoding of
// a query for the root name (a single zero byte at offset 12), cut either side of it.
const frames = new Map<string, { head: Buffer; tail: Buffer }>();

/**
 * Encodes `name` (already checked and canonical) and `type` for sending: dns-packet
 * encodes the name into the frame of a query encoded once per type, which costs less than
 * half of encoding the whole message for every name that is not kept. `kept`: the
 * question will be kept for long (see below).
 */
export function encodeQuestion(name: string, type: QueryType, udpPayloadSize: number, kept = false): EncodedQuestion {
  const key = `${type} ${udpPayloadSize}`;
  let frame = frames.get(key);
  if (frame === undefined) {
    const root = encodeQuery(0, '.', type, udpPayloadSize);
    frame = { head: root.subarray(0, HEADER_BYTES), tail: root.subarray(HEADER_BYTES + 1) };
    // A process uses one payload size or a few; bounded all the same.
    if (frames.size >= 64) frames.clear();
    frames.set(key, frame);
  }
  const nameBytes = parts.name.encodingLength(name);
  // Every byte is written below. A kept question gets its own memory, not a slice of Node's
  // shared 8 KB pool, which it would hold alive for its few dozen bytes (at ~1.7 µs more).
  const size = HEADER_BYTES + nameBytes + frame.tail.length;
  const template = kept ? Buffer.allocUnsafeSlow(size) : Buffer.allocUnsafe(size);
  frame.head.copy(template, 0);
  parts.name.encode(name, template, HEADER_BYTES);
  frame.tail.copy(template, HEADER_BYTES + nameBytes);
  // QTYPE and QCLASS follow the name.
  const section = template.subarray(HEADER_BYTES, HEADER_BYTES + nameBytes + 4);
  return { name, type, template, section, kept, targets: undefined, addresses: undefined };
}

/** A copy of the question's query under `id`. */
export function withId(question: EncodedQuestion, id: number): Buffer {
  const { template } = question;
  const message = Buffer.allocUnsafe(template.length);
  // TypedArray's set, not Buffer's copy and writeUInt16BE: no native call, no checks.
  message.set(template);
  message[0] = id >>> 8;
  message[1] = id & 0xff;
  return message;
}

/**
 * The verdict on a clean answer. A class, not an object literal: it holds the whole decoded
 * answer, and once V8 places a literal's objects in the old generation, every answer stays
 * reachable from dead old objects until the next full collection and is copied there too.
 * Measured with 1,000 watchers started together: with a literal here, 2.2 MB/s of old
 * objects and 9–10 ms of collection pauses a second, with the class 0.3 MB/s and 2–3 ms.
 */
export class Answered {
  readonly kind = 'answer';

  constructor(readonly message: Response) {}
}

const FOREIGN: Verdict = Object.freeze({ kind: 'foreign' });
const TRUNCATED: Verdict = Object.freeze({ kind: 'truncated' });

/** What a received message is to the query that waits for it. */
export type Verdict =
  /** A clean answer to this question. */
  | Answered
  /** This question's answer, cut short (TC=1): ask again over TCP. */
  | { kind: 'truncated' }
  /** Not an answer to this question (wrong ID, a query, another question): drop it. */
  | { kind: 'foreign' }
  /** Carries this query's ID and QR=1 but does not decode cleanly: drop it, remember it. */
  | { kind: 'malformed'; reason: string };

const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];
const AA_BIT = 0x0400;
const NO_RECORDS: Answer[] = [];

/**
 * Decides whether `buf` answers the query `id` for `question`: the message must repeat the
 * question section we sent (letters in any case). Nothing here throws:
 * any packet, however broken, gets a verdict. The whole message is checked for structure
 * (every record's length within the message, A/AAAA lengths right); the sections the
 * client uses are decoded by dns-packet and their values checked.
 */
export function judgeResponse(buf: Buffer, id: number, question: EncodedQuestion): Verdict {
  if (buf.length < HEADER_BYTES || u16(buf, 0) !== id) return FOREIGN;
  const flags = u16(buf, 2);
  if ((flags & QR_BIT) === 0 || (flags & OPCODE_MASK) !== 0) return FOREIGN;
  // A truncated answer is never used: its question is all that needs checking. It must be
  // one question, as long as ours; nearly every server repeats it byte for byte, others may
  // change the case of its letters.
  const { section } = question;
  const fits = u16(buf, 4) === 1 && buf.length >= HEADER_BYTES + section.length;
  const echo = fits ? repeated(buf, section) : NOT_REPEATED;
  if ((flags & TC_BIT) !== 0) return echo === NOT_REPEATED ? FOREIGN : TRUNCATED;
  if (echo === NOT_REPEATED) return FOREIGN;
  const exact = echo === REPEATED_EXACTLY;
  const { name } = question;
  const layout = walkRecords(buf);
  if (layout === undefined) return { kind: 'malformed', reason: 'record lengths do not add up' };
  const answerCount = u16(buf, 6);
  const authorityCount = u16(buf, 8);
  try {
    // Only an SRV answer has names worth keeping (its targets own the Additional records).
    const names: NameCache | undefined = question.type === 'SRV' ? new Map() : undefined;
    const answers = decodeRecords(buf, layout.answers, answerCount, layout.authorities, name, names, question, exact);
    const authorities =
      answerCount === 0
        ? decodeRecords(buf, layout.authorities, authorityCount, layout.additionals, name, names)
        : NO_RECORDS;
    const problem = recordProblem(answers);
    if (problem !== undefined) return { kind: 'malformed', reason: problem };
    const rcode = RCODES[flags & 0x0f] ?? `RCODE${flags & 0x0f}`;
    return new Answered(new Response(rcode, (flags & AA_BIT) !== 0, answers, authorities, buf, layout, name, names));
  } catch (err) {
    return { kind: 'malformed', reason: err instanceof Error ? err.message : String(err) };
  }
}

// The record types the client reads, by type code, with dns-packet's RDATA decoder.
const READ_TYPES = new Map<
  number,
  { type: 'A' | 'AAAA' | 'SRV' | 'PTR'; rdata: { decode: (buf: Buffer, offset: number) => unknown } }
>([
  [1, { type: 'A', rdata: parts.a }],
  [28, { type: 'AAAA', rdata: parts.aaaa }],
  [33, { type: 'SRV', rdata: parts.srv }],
  [12, { type: 'PTR', rdata: parts.ptr }],
]);
const POINTER = 0xc000;
const POINTER_TO_QUESTION = POINTER | 12;

/** Names already decoded in one message, by the offset they start at. */
type NameCache = Map<number, string>;

// Where an SRV record's target name starts, from the record's start when its owner is a
// 2-byte pointer: owner, TYPE, CLASS, TTL, RDLENGTH, then priority, weight and port.
const SRV_TARGET_AT = 2 + 2 + 2 + 4 + 2 + 6;

// Decodes `count` records from `start`; they must end exactly at `end`, where the walk by
// length fields said the section ends. Records of the types the client reads whose owner
// is a pointer to the question (nearly all answers) take the question's name, and those
// whose owner points at an SRV target decoded before (the Additional records of an SRV
// answer) take that target, instead of decoding the name again; everything else goes
// through dns-packet whole.
function decodeRecords(
  buf: Buffer,
  start: number,
  count: number,
  end: number,
  question: string,
  names: NameCache | undefined,
  asked?: EncodedQuestion,
  exact = false,
): Answer[] {
  const records: Answer[] = new Array(count);
  // The answers of a question remember what they held: SRV targets (whose text is the
  // question's own, when it was repeated exactly) and a kept question's addresses.
  let targets: Recent<string, RememberedTarget> | undefined;
  let addresses: Recent<number, RememberedAddress> | undefined;
  if (asked?.type === 'SRV' && exact) targets = asked.targets ??= new Recent();
  else if (asked?.kept && (asked.type === 'A' || asked.type === 'AAAA')) addresses = asked.addresses ??= new Recent();
  const memory = targets ?? addresses;
  if (memory !== undefined) memory.answers++;
  let offset = start;
  for (let i = 0; i < count; i++) {
    // The walk by length fields found every record inside the message; decoding must too.
    if (offset + 10 > end) throw new Error('a record decodes to another length than it declares');
    const owner = u16(buf, offset);
    const name =
      owner === POINTER_TO_QUESTION
        ? question
        : (owner & POINTER) === POINTER
          ? names?.get(owner & ~POINTER)
          : undefined;
    const known = name === undefined ? undefined : READ_TYPES.get(u16(buf, offset + 2));
    const klass = known === undefined ? 0 : u16(buf, offset + 4);
    if (known === undefined || (klass & 0x7fff) !== 1) {
      records[i] = parts.answer.decode(buf, offset);
      offset += parts.answer.decode.bytes;
      continue;
    }
    const decoder = known.rdata.decode as PartDecoderOf<unknown>;
    // RDATA from its RDLENGTH on: dns-packet's SRV decoder reads that, as srvData does; the
    // walk let through A and AAAA records of 4 and 16 bytes only.
    const rdata = offset + 10;
    const fast =
      targets !== undefined && known.type === 'SRV'
        ? srvData(buf, rdata, asked as EncodedQuestion, targets)
        : addresses !== undefined && (known.type === 'A' || known.type === 'AAAA')
          ? rememberedAddress(addresses, buf, rdata, known.type === 'AAAA', decoder)
          : undefined;
    const data = fast ?? decoder(buf, rdata);
    records[i] = new DecodedRecord(
      name as string,
      known.type,
      u32(buf, offset + 6),
      (klass & 0x8000) !== 0,
      data,
    ) as Answer;
    if (known.type === 'SRV') names?.set(offset + SRV_TARGET_AT, (data as { target: string }).target);
    offset = rdata + (fast === undefined ? decoder.bytes : 2 + u16(buf, rdata));
  }
  if (offset !== end) throw new Error('a record decodes to another length than it declares');
  memory?.prune(count);
  return records;
}

/**
 * A record of a type the client reads, shaped as dns-packet decodes it. A class, not an
 * object literal: V8 decides per literal whether its objects start in the old generation,
 * and a burst of queries in flight during a collection (a thousand watchers starting
 * together) can make it decide so for good (`--trace-deopt` showed this function and
 * walkRecords recompiled for it); the records of every later answer would then be
 * old-generation garbage, holding what they point to through the young collections
 * (docs/performance.md). Objects made by `new` are not placed so.
 */
class DecodedRecord {
  readonly name: string;
  readonly type: string;
  readonly ttl: number;
  readonly class = 'IN';
  readonly flush: boolean;
  readonly data: unknown;

  constructor(name: string, type: string, ttl: number, flush: boolean, data: unknown) {
    this.name = name;
    this.type = type;
    this.ttl = ttl;
    this.flush = flush;
    this.data = data;
  }
}

type PartDecoderOf<T> = ((buf: Buffer, offset: number) => T) & { bytes: number };

/** SRV record data, shaped as dns-packet decodes it (a class, for the reason above). */
class SrvData {
  constructor(
    readonly priority: number,
    readonly weight: number,
    readonly port: number,
    readonly target: string,
  ) {}
}

/**
 * The data of the SRV record whose RDATA (from its RDLENGTH) is at `at`, when its target
 * ends in a suffix of the question name: a pod under the service asked for, as BIND and
 * CoreDNS write it (uncompressed: RFC 2782 forbids compressing SRV targets). The target's
 * own labels are decoded as dns-packet decodes a label; the rest, found equal byte for byte
 * to the end of the question (which `echoed` asked, and the answer repeated exactly), is
 * the question's own text, not decoded again label by label for every record. Undefined
 * for any other target, which dns-packet then decodes whole (and rejects, if broken).
 */
function srvData(
  buf: Buffer,
  at: number,
  echoed: EncodedQuestion,
  targets: Recent<string, RememberedTarget>,
): SrvData | undefined {
  const start = at + 8;
  const end = at + 2 + u16(buf, at);
  const { name, section } = echoed;
  // The question name on the wire: for an ASCII name, its text plus a leading length byte
  // and the root's zero byte, each length byte where the text has the dot before its label.
  const nameBytes = section.length - 4;
  // dns-packet's limit: a name's labels, each with its length byte, at most 254 bytes.
  if (nameBytes !== name.length + 2 || start >= end || end > buf.length || end - 1 - start > 254) return undefined;
  const nameEnd = HEADER_BYTES + nameBytes;
  let own = '';
  let offset = start;
  for (;;) {
    const length = buf[offset] as number;
    if (length === 0 || (length & 0xc0) !== 0 || offset + 1 + length >= end) return undefined;
    own += buf.toString('utf8', offset + 1, offset + 1 + length);
    offset += 1 + length;
    // The rest of the RDATA, if it is the end of the question name from one of its labels on.
    const rest = end - offset;
    const from = nameEnd - rest - HEADER_BYTES;
    if (
      rest <= nameBytes &&
      (from === 0 || name.charCodeAt(from - 1) === 0x2e) &&
      sameBytes(buf, nameEnd - rest, offset, rest)
    ) {
      const target = rememberedTarget(targets, name, own, from);
      return new SrvData(u16(buf, at + 2), u16(buf, at + 4), u16(buf, at + 6), target);
    }
    own += '.';
  }
}

/** `own`, a dot and the question name from character `from` on: the string of an earlier answer, if any. */
function rememberedTarget(memory: Recent<string, RememberedTarget>, name: string, own: string, from: number): string {
  const known = memory.byKey.get(own);
  // The same own labels under another suffix of the name would make a name of another length.
  if (known !== undefined && known.name.length === own.length + 1 + name.length - from) {
    known.seen = memory.answers;
    return known.name;
  }
  const target = `${own}.${from === 0 ? name : name.slice(from)}`;
  memory.byKey.set(own, new RememberedTarget(target, memory.answers));
  return target;
}

/**
 * The text of the A (or, `v6`, AAAA) record whose RDATA (from its RDLENGTH) is at `at`: the
 * string an earlier answer's same address was read as, or dns-packet's `decode` of it. An
 * IPv4 address string costs four number-to-string conversions and three concatenations to
 * build; found again, a map lookup by its last 30 bits (a small integer) and a comparison.
 */
function rememberedAddress(
  memory: Recent<number, RememberedAddress>,
  buf: Buffer,
  at: number,
  v6: boolean,
  decode: (buf: Buffer, offset: number) => unknown,
): string {
  const data = at + 2;
  const last = u32(buf, v6 ? data + 12 : data);
  const key = last & 0x3fffffff;
  const known = memory.byKey.get(key);
  if (
    known !== undefined &&
    known.w3 === last &&
    known.v6 === v6 &&
    (!v6 || (known.w0 === u32(buf, data) && known.w1 === u32(buf, data + 4) && known.w2 === u32(buf, data + 8)))
  ) {
    known.seen = memory.answers;
    return known.text;
  }
  const text = decode(buf, at) as string;
  memory.byKey.set(
    key,
    v6
      ? new RememberedAddress(text, true, u32(buf, data), u32(buf, data + 4), u32(buf, data + 8), last, memory.answers)
      : new RememberedAddress(text, false, 0, 0, 0, last, memory.answers),
  );
  return text;
}

const NOT_REPEATED = 0;
const REPEATED_EXACTLY = 1;
const REPEATED_IN_OTHER_CASE = 2;

/**
 * Whether the message's question (one, at least as long as ours) is the question we sent
 * (`sent`: our question section, name, type and class), and whether byte for byte.
 * Compared byte by byte, letters case-insensitively (RFC 4343): no decoding, no strings,
 * and no native call, which costs more than the loop for a question's few dozen bytes.
 */
function repeated(buf: Buffer, sent: Buffer): number {
  let exactly = true;
  for (let i = 0; i < sent.length; i++) {
    const ours = sent[i] as number;
    const theirs = buf[HEADER_BYTES + i] as number;
    if (ours === theirs) continue;
    const folded = ours | 0x20;
    // Only where we sent a letter may the case differ; length, type and class bytes must match.
    if (folded < 0x61 || folded > 0x7a || (theirs | 0x20) !== folded) return NOT_REPEATED;
    exactly = false;
  }
  return exactly ? REPEATED_EXACTLY : REPEATED_IN_OTHER_CASE;
}

/** Whether the `length` bytes of `buf` at `a` and at `b` are the same. */
function sameBytes(buf: Uint8Array, a: number, b: number, length: number): boolean {
  for (let i = 0; i < length; i++) if (buf[a + i] !== buf[b + i]) return false;
  return true;
}

/** Whether two names are the same name (case-insensitively, trailing dot or not). */
export function sameName(a: string, b: string): boolean {
  return a === b || canonicalName(a) === canonicalName(b);
}

// The decoded values themselves, in case a lie about lengths still added up. A and AAAA
// data need no address check: walkRecords let through only 4 and 16 bytes, and any 4 or 16
// bytes decode to an address.
function recordProblem(records: Answer[] | undefined): string | undefined {
  for (const record of records ?? []) {
    if ((record.type === 'A' || record.type === 'AAAA') && typeof record.data !== 'string') {
      return `bad ${record.type} record data for ${record.name}`;
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

/** Where each section starts, and where the message ends, by its own length fields. */
class Layout {
  constructor(
    readonly answers: number,
    readonly authorities: number,
    readonly additionals: number,
    readonly end: number,
  ) {}
}

/**
 * Walks the message by its counts and RDLENGTH fields: undefined when they run past the
 * end or an A/AAAA record has the wrong data length.
 */
function walkRecords(buf: Buffer): Layout | undefined {
  let offset = HEADER_BYTES;
  const questions = u16(buf, 4);
  for (let i = 0; i < questions; i++) {
    offset = skipName(buf, offset);
    if (offset < 0 || offset + 4 > buf.length) return undefined;
    offset += 4;
  }
  let answers = 0;
  let authorities = 0;
  let additionals = 0;
  for (let section = 0; section < 3; section++) {
    if (section === 0) answers = offset;
    else if (section === 1) authorities = offset;
    else additionals = offset;
    const count = u16(buf, 6 + 2 * section);
    for (let i = 0; i < count; i++) {
      offset = skipName(buf, offset);
      if (offset < 0 || offset + 10 > buf.length) return undefined;
      const recordType = u16(buf, offset);
      const rdlength = u16(buf, offset + 8);
      if ((recordType === TYPE_A && rdlength !== 4) || (recordType === TYPE_AAAA && rdlength !== 16)) return undefined;
      offset += 10 + rdlength;
      if (offset > buf.length) return undefined;
    }
  }
  return new Layout(answers, authorities, additionals, offset);
}

/** The smallest TTL of `records`, or `fallback` when there are none. */
export function minTtl(records: readonly { type: string; ttl?: number | undefined }[], fallback: number): number {
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
export function answersFor(message: Pick<Response, 'answers'>, name: string, type: QueryType): Answer[] {
  const { answers } = message;
  // The common case, one owner and one type: no chain to follow.
  if (answers.every((record) => record.type === type && sameName(record.name, name))) return answers;
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
export function negativeTtl(message: Pick<Response, 'authorities'>): number {
  for (const record of message.authorities) {
    if (record.type === 'SOA') return Math.min(record.ttl ?? 0, record.data.minimum ?? 0);
  }
  return 0;
}
