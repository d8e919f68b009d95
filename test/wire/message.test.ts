import { type Answer, decode, encode } from 'dns-packet';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  answersFor,
  canonicalName,
  encodeQuestion,
  judge,
  minTtl,
  negativeTtl,
  type Verdict,
  withId,
} from '../../src/wire/message.js';
import { aRecord, compressedResponseTo, responseTo } from '../support/scripted-server.js';

const NAME = 'kafka.default.svc.cluster.local';
const ASKED = encodeQuestion(NAME, 'A', 1232);
const query = decode(withId(ASKED, 4242));

function answers(verdict: Verdict): Answer[] {
  if (verdict.kind !== 'answer') throw new Error(`expected an answer, got ${JSON.stringify(verdict)}`);
  return verdict.reply.answers;
}

describe('encodeQuestion and withId', () => {
  it('ask one question with RD and an EDNS0 OPT record, under the ID given', () => {
    expect(query).toMatchObject({
      id: 4242,
      type: 'query',
      flag_rd: true,
      questions: [{ name: NAME, type: 'A', class: 'IN' }],
    });
    expect(query.additionals).toEqual([expect.objectContaining({ type: 'OPT', udpPayloadSize: 1232 })]);
  });

  it('encode any name and type as dns-packet does, the question intact under any ID', () => {
    const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/);
    const name = fc
      .array(label, { minLength: 1, maxLength: 8 })
      .map((labels) => labels.join('.'))
      .filter((joined) => joined.length <= 253);
    fc.assert(
      fc.property(
        name,
        fc.constantFrom('A', 'AAAA', 'SRV', 'PTR' as const),
        fc.integer({ min: 0, max: 65535 }),
        (asked, type, id) => {
          const decoded = decode(withId(encodeQuestion(asked, type, 1232), id));
          expect([decoded.id, decoded.questions]).toEqual([id, [{ name: asked, type, class: 'IN' }]]);
        },
      ),
    );
  });
});

describe('judge', () => {
  const good = responseTo(query, { answers: [aRecord(NAME, '10.0.0.1')] });

  it('accepts a clean answer to the question, with its rcode, AA flag and records', () => {
    const verdict = judge(good, ASKED);
    expect(verdict).toMatchObject({ kind: 'answer', reply: { rcode: 'NOERROR', authoritative: true } });
    expect(answers(verdict)).toEqual([expect.objectContaining({ type: 'A', data: '10.0.0.1' })]);
  });

  it('drops a query packet, another name, another type, another class, two questions, a stub', () => {
    const asQuery = Buffer.from(good);
    asQuery.writeUInt16BE(asQuery.readUInt16BE(2) & 0x7fff, 2);
    expect(judge(asQuery, ASKED).kind).toBe('foreign');
    expect(judge(good, encodeQuestion(`x.${NAME}`, 'A', 1232)).kind).toBe('foreign');
    expect(judge(good, encodeQuestion(NAME, 'AAAA', 1232)).kind).toBe('foreign');
    const chaos = encode({ type: 'response', id: 4242, questions: [{ name: NAME, type: 'A', class: 'CH' }] });
    expect(judge(chaos, ASKED).kind).toBe('foreign');
    const two = encode({
      type: 'response',
      id: 4242,
      questions: [
        { name: NAME, type: 'A' },
        { name: NAME, type: 'A' },
      ],
    });
    expect(judge(two, ASKED).kind).toBe('foreign');
    expect(judge(Buffer.alloc(5), ASKED).kind).toBe('foreign');
  });

  it('reads answers whose owner is a pointer to the question, as real servers write them', () => {
    const compressed = compressedResponseTo(query, [aRecord(NAME, '10.0.0.1'), aRecord(NAME, '10.0.0.2')]);
    expect(
      answers(judge(compressed, ASKED)).map((record) => [record.name, (record as { data: unknown }).data]),
    ).toEqual([
      [NAME, '10.0.0.1'],
      [NAME, '10.0.0.2'],
    ]);
  });

  it('matches the question name case-insensitively (RFC 4343), and only its letters', () => {
    const upper = responseTo(
      { ...query, questions: [{ name: NAME.toUpperCase(), type: 'A', class: 'IN' }] },
      { answers: [aRecord(NAME, '10.0.0.1')] },
    );
    expect(judge(upper, ASKED).kind).toBe('answer');
    // Flipping bit 0x20 of a non-letter (the first label's length byte) is another name.
    const flipped = Buffer.from(good);
    flipped.writeUInt8(flipped.readUInt8(12) ^ 0x20, 12);
    expect(judge(flipped, ASKED).kind).toBe('foreign');
  });

  it('says truncated for TC=1, even when the cut-off records do not decode', () => {
    const tc = responseTo(query, { flags: 1 << 9, answers: [aRecord(NAME, '10.0.0.1'), aRecord(NAME, '10.0.0.2')] });
    expect(judge(tc, ASKED).kind).toBe('truncated');
    expect(judge(tc.subarray(0, tc.length - 5), ASKED).kind).toBe('truncated');
  });

  it('calls a matching message that does not add up malformed: cut short, or an A record of 5 bytes', () => {
    expect(judge(good.subarray(0, good.length - 2), ASKED)).toMatchObject({ kind: 'malformed' });
    const bad = Buffer.from(good);
    bad.writeUInt16BE(5, bad.length - 6);
    expect(judge(bad, ASKED)).toMatchObject({ kind: 'malformed', reason: 'an address record of 5 bytes' });
  });

  it('reads any SRV answer as dns-packet decodes it, Additional records of the targets included', () => {
    const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,14}[a-z0-9])?$/);
    const srvName = `_p._tcp.${NAME}`;
    const srvQuestion = encodeQuestion(srvName, 'SRV', 1232);
    const srvQuery = decode(withId(srvQuestion, 7));
    fc.assert(
      fc.property(fc.array(fc.tuple(label, fc.integer({ min: 1, max: 65535 })), { maxLength: 20 }), (pods) => {
        const records: Answer[] = pods.map(([pod, port]) => ({
          type: 'SRV',
          name: srvName,
          ttl: 5,
          class: 'IN',
          data: { priority: 0, weight: 10, port, target: `${pod}.${NAME}` },
        }));
        const additionals = pods.map(([pod], i) => aRecord(`${pod}.${NAME}`, `10.0.${i >> 8}.${i & 255}`));
        const buf = responseTo(srvQuery, { answers: records, additionals });
        const verdict = judge(buf, srvQuestion);
        const whole = decode(buf);
        expect(answers(verdict)).toEqual(whole.answers);
        expect(verdict.kind === 'answer' && verdict.reply.additionals).toEqual(whole.additionals);
      }),
      { numRuns: 200 },
    );
  });
});

describe('answer helpers', () => {
  it('canonicalName lower-cases and drops the trailing dot', () => {
    expect(canonicalName('Kafka.Default.SVC.cluster.local.')).toBe('kafka.default.svc.cluster.local');
  });

  it('minTtl takes the smallest TTL, or the fallback', () => {
    expect(minTtl([aRecord(NAME, '10.0.0.1', 30), aRecord(NAME, '10.0.0.2', 7)], 0)).toBe(7);
    expect(minTtl([], 42)).toBe(42);
  });

  it('negativeTtl is the smaller of the SOA TTL and its MINIMUM (RFC 2308)', () => {
    const soa = (ttl: number, minimum: number): Answer => ({
      type: 'SOA',
      name: 'cluster.local',
      ttl,
      class: 'IN',
      data: { mname: 'ns', rname: 'h', serial: 1, refresh: 1, retry: 1, expire: 1, minimum },
    });
    expect([negativeTtl([soa(30, 5)]), negativeTtl([soa(3, 5)]), negativeTtl([])]).toEqual([5, 3, 0]);
  });

  it('answersFor follows CNAMEs and stops on a loop', () => {
    const cname = (name: string, target: string): Answer => ({
      type: 'CNAME',
      name,
      ttl: 5,
      class: 'IN',
      data: target,
    });
    const chain = [
      cname(NAME, 'a.example'),
      cname('a.example', 'B.example.'),
      aRecord('b.example', '10.0.0.9'),
      aRecord('other.example', '10.0.0.8'),
    ];
    expect(answersFor(chain, NAME, 'A').map((record) => (record as { data: unknown }).data)).toEqual(['10.0.0.9']);
    const loop = [cname(NAME, 'x.example'), cname('x.example', NAME)];
    expect(answersFor(loop, NAME, 'A')).toEqual([]);
  });
});
