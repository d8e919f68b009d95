import { decode, encode, type SrvAnswer, type StringAnswer } from 'dns-packet';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { parts } from '../../src/wire/codec.js';
import {
  answersFor,
  canonicalName,
  encodeQuery,
  encodeQuestion,
  judgeResponse,
  minTtl,
} from '../../src/wire/message.js';
import { aRecord, compressedResponseTo, responseTo } from '../support/scripted-server.js';

const NAME = 'kafka.default.svc.cluster.local';
const query = decode(encodeQuery(4242, NAME, 'A', 1232));
const ASKED = encodeQuestion(NAME, 'A', 1232);

describe('encodeQuery', () => {
  it('asks one question with RD and an EDNS0 OPT record', () => {
    expect(query).toMatchObject({
      id: 4242,
      type: 'query',
      flag_rd: true,
      questions: [{ name: NAME, type: 'A', class: 'IN' }],
    });
    expect(query.additionals).toEqual([expect.objectContaining({ type: 'OPT', udpPayloadSize: 1232 })]);
  });
});

describe('encodeQuestion', () => {
  it('builds the same query as dns-packet encoding the whole message, for any name, type and payload size', () => {
    const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/);
    const name = fc
      .array(label, { minLength: 1, maxLength: 8 })
      .map((labels) => labels.join('.'))
      .filter((joined) => joined.length <= 253);
    fc.assert(
      fc.property(
        name,
        fc.constantFrom('A', 'AAAA', 'SRV', 'PTR' as const),
        fc.integer({ min: 512, max: 65535 }),
        (asked, type, size) => {
          const question = encodeQuestion(asked, type, size);
          expect(question.template.equals(encodeQuery(0, asked, type, size))).toBe(true);
          // The section is the question as sent: the name, then QTYPE and QCLASS.
          const bare = encode({ type: 'query', id: 0, questions: [{ name: asked, type, class: 'IN' }] });
          expect(question.section.equals(bare.subarray(12))).toBe(true);
        },
      ),
    );
  });

  it('gives a question kept for long its own memory, not a slice of the shared buffer pool', () => {
    const kept = encodeQuestion(NAME, 'A', 1232, true);
    expect(kept.template.buffer.byteLength).toBe(kept.template.length);
    expect(kept.template.equals(encodeQuestion(NAME, 'A', 1232).template)).toBe(true);
  });
});

describe('judgeResponse', () => {
  const good = responseTo(query, { answers: [aRecord(NAME, '10.0.0.1')] });

  it('accepts a clean answer to the question', () => {
    const verdict = judgeResponse(good, 4242, ASKED);
    expect(verdict.kind).toBe('answer');
  });

  it('drops a wrong ID, a query packet, another name, another type, another class', () => {
    expect(judgeResponse(good, 4243, ASKED).kind).toBe('foreign');
    const asQuery = Buffer.from(good);
    asQuery.writeUInt16BE(asQuery.readUInt16BE(2) & 0x7fff, 2);
    expect(judgeResponse(asQuery, 4242, ASKED).kind).toBe('foreign');
    expect(judgeResponse(good, 4242, encodeQuestion(`x.${NAME}`, 'A', 1232)).kind).toBe('foreign');
    expect(judgeResponse(good, 4242, encodeQuestion(NAME, 'AAAA', 1232)).kind).toBe('foreign');
    const chaos = encode({ type: 'response', id: 4242, questions: [{ name: NAME, type: 'A', class: 'CH' }] });
    expect(judgeResponse(chaos, 4242, ASKED).kind).toBe('foreign');
    const twoQuestions = encode({
      type: 'response',
      id: 4242,
      questions: [
        { name: NAME, type: 'A' },
        { name: NAME, type: 'A' },
      ],
    });
    expect(judgeResponse(twoQuestions, 4242, ASKED).kind).toBe('foreign');
    expect(judgeResponse(Buffer.alloc(5), 4242, ASKED).kind).toBe('foreign');
  });

  it('reads answers whose owner is a pointer to the question, as real servers send them', () => {
    const compressed = compressedResponseTo(query, [aRecord(NAME, '10.0.0.1'), aRecord(NAME, '10.0.0.2')]);
    const verdict = judgeResponse(compressed, 4242, ASKED);
    expect(verdict.kind).toBe('answer');
    if (verdict.kind !== 'answer') return;
    expect(verdict.message.answers).toEqual([
      expect.objectContaining({ name: NAME, type: 'A', ttl: 5, class: 'IN', data: '10.0.0.1' }),
      expect.objectContaining({ name: NAME, type: 'A', ttl: 5, class: 'IN', data: '10.0.0.2' }),
    ]);
    // An A record claiming 5 bytes of data behind a pointer owner is still refused.
    const bad = Buffer.from(compressed);
    bad.writeUInt16BE(5, bad.length - 6);
    expect(judgeResponse(bad, 4242, ASKED).kind).toBe('malformed');
  });

  it('matches the question name case-insensitively (RFC 4343), and only its letters', () => {
    const upper = responseTo(
      { ...query, questions: [{ name: NAME.toUpperCase(), type: 'A', class: 'IN' }] },
      { answers: [aRecord(NAME, '10.0.0.1')] },
    );
    expect(judgeResponse(upper, 4242, ASKED).kind).toBe('answer');
    // Flipping bit 0x20 of a non-letter (the '.' length byte of the first label) is another name.
    const flipped = Buffer.from(good);
    flipped.writeUInt8(flipped.readUInt8(12) ^ 0x20, 12);
    expect(judgeResponse(flipped, 4242, ASKED).kind).toBe('foreign');
  });

  it('says truncated for TC=1, even when the cut-off records do not decode', () => {
    const tc = responseTo(query, { flags: 1 << 9, answers: [aRecord(NAME, '10.0.0.1'), aRecord(NAME, '10.0.0.2')] });
    expect(judgeResponse(tc, 4242, ASKED).kind).toBe('truncated');
    expect(judgeResponse(tc.subarray(0, tc.length - 5), 4242, ASKED).kind).toBe('truncated');
  });

  it('calls a matching but undecodable message malformed', () => {
    expect(judgeResponse(good.subarray(0, good.length - 2), 4242, ASKED)).toMatchObject({ kind: 'malformed' });
    // An A record whose RDLENGTH says 5: dns-packet would read garbage past it.
    const bad = Buffer.from(good);
    const rdlength = bad.length - 6;
    bad.writeUInt16BE(5, rdlength);
    expect(judgeResponse(bad, 4242, ASKED).kind).not.toBe('answer');
  });

  it('calls a message whose last A record runs past the end malformed, not an answer', () => {
    const cut = Buffer.from(good.subarray(0, good.length - 2));
    expect(judgeResponse(cut, 4242, ASKED).kind).toBe('malformed');
  });
});

describe('judgeResponse on SRV answers', () => {
  const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,14}[a-z0-9])?$/);

  /** One SRV record, owner a pointer to the question, with `target` as its name bytes. */
  function srvRecord(port: number, target: Buffer): Buffer {
    const fixed = Buffer.alloc(12);
    fixed.writeUInt16BE(0xc00c, 0);
    fixed.writeUInt16BE(33, 2);
    fixed.writeUInt16BE(1, 4);
    fixed.writeUInt32BE(30, 6);
    fixed.writeUInt16BE(6 + target.length, 10);
    return Buffer.concat([fixed, Buffer.from([0, 1, 0, 2, port >> 8, port & 0xff]), target]);
  }

  function labelsOf(labels: string[]): Buffer {
    return Buffer.concat(labels.map((l) => Buffer.concat([Buffer.from([Buffer.byteLength(l)]), Buffer.from(l)])));
  }

  function answer(echoed: string, records: Buffer[]): Buffer {
    const raw = Buffer.concat([responseTo(decode(encodeQuery(7, echoed, 'SRV', 1232)), { answers: [] }), ...records]);
    raw.writeUInt16BE(records.length, 6);
    return raw;
  }

  // SRV targets written as BIND and CoreDNS write them (own labels, then the rest of the
  // question name, uncompressed) and every other way: each is read as dns-packet reads it.
  it('reads every SRV target as dns-packet does, however it is written, or calls it malformed', () => {
    const target = fc.record({
      // Labels of its own: ASCII, a capital letter now and then, or UTF-8.
      own: fc.array(
        fc.oneof(
          label,
          label.map((l) => l.toUpperCase()),
          fc.constant('pod-é'),
        ),
        { maxLength: 3 },
      ),
      // Then: the question name from one of its labels on, or from any byte of it (mid-label
      // too), or a pointer to any byte of it.
      tail: fc.oneof(
        fc.record({ kind: fc.constant('suffix' as const), at: fc.nat(20) }),
        fc.record({ kind: fc.constant('bytes' as const), at: fc.nat(80) }),
        fc.record({ kind: fc.constant('pointer' as const), at: fc.nat(80) }),
      ),
      port: fc.nat(65535),
    });
    fc.assert(
      fc.property(
        fc.array(label, { minLength: 1, maxLength: 4 }),
        fc.array(target, { minLength: 1, maxLength: 4 }),
        fc.boolean(),
        (serviceLabels, targets, upperEcho) => {
          const name = `_p._tcp.${serviceLabels.join('.')}.svc.cluster.local`;
          const labels = name.split('.');
          const wire = labelsOf(labels);
          const records = targets.map(({ own, tail, port }) => {
            const rest =
              tail.kind === 'suffix'
                ? Buffer.concat([labelsOf(labels.slice(tail.at % (labels.length + 1))), Buffer.from([0])])
                : tail.kind === 'bytes'
                  ? Buffer.concat([wire.subarray(tail.at % (wire.length + 1)), Buffer.from([0])])
                  : Buffer.from([0xc0, 12 + (tail.at % (wire.length + 1))]);
            return srvRecord(port, Buffer.concat([labelsOf(own), rest]));
          });
          const raw = answer(upperEcho ? name.toUpperCase() : name, records);
          const verdict = judgeResponse(raw, 7, encodeQuestion(name, 'SRV', 1232));
          let expected: SrvAnswer['data'][];
          try {
            expected = ((decode(raw).answers ?? []) as SrvAnswer[]).map((record) => record.data);
          } catch {
            expect(verdict.kind).toBe('malformed');
            return;
          }
          if (verdict.kind !== 'answer') throw new Error(`expected an answer, got ${verdict.kind}`);
          expect((verdict.message.answers as SrvAnswer[]).map((record) => ({ ...record.data }))).toEqual(expected);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('does not decode the question name again for each target under it', () => {
    const name = '_http._tcp.web.default.svc.cluster.local';
    const targets = [0, 1, 2].map((i) => `web-${i}.web.default.svc.cluster.local`);
    const raw = answer(
      name,
      targets.map((t) => srvRecord(80, Buffer.concat([labelsOf(t.split('.')), Buffer.from([0])]))),
    );
    const decodeSrv = vi.spyOn(parts.srv, 'decode');
    const decodeName = vi.spyOn(parts.name, 'decode');
    try {
      const verdict = judgeResponse(raw, 7, encodeQuestion(name, 'SRV', 1232));
      if (verdict.kind !== 'answer') throw new Error(`expected an answer, got ${verdict.kind}`);
      expect((verdict.message.answers as SrvAnswer[]).map((record) => record.data.target)).toEqual(targets);
      expect(decodeSrv).not.toHaveBeenCalled();
      expect(decodeName).not.toHaveBeenCalled();
      // Echoed in other letters: the question's text is not what the answer says; dns-packet reads it.
      const upper = judgeResponse(
        answer(
          name.toUpperCase(),
          targets.map((t) => srvRecord(80, Buffer.concat([labelsOf(t.split('.')), Buffer.from([0])]))),
        ),
        7,
        encodeQuestion(name, 'SRV', 1232),
      );
      expect(upper.kind).toBe('answer');
      expect(decodeSrv).toHaveBeenCalledTimes(3);
    } finally {
      decodeSrv.mockRestore();
      decodeName.mockRestore();
    }
  });

  it('reads the targets of a question asked again each under its own suffix, though their own labels repeat', () => {
    const name = '_http._tcp.web.default.svc.cluster.local';
    const asked = encodeQuestion(name, 'SRV', 1232);
    const targetsOf = (raw: Buffer) => {
      const verdict = judgeResponse(raw, 7, asked);
      if (verdict.kind !== 'answer') throw new Error(`expected an answer, got ${verdict.kind}`);
      return (verdict.message.answers as SrvAnswer[]).map((record) => record.data.target);
    };
    const recordsFor = (targets: string[]) =>
      targets.map((t) => srvRecord(80, Buffer.concat([labelsOf(t.split('.')), Buffer.from([0])])));
    const first = targetsOf(answer(name, recordsFor(['web-0.web.default.svc.cluster.local', 'x.svc.cluster.local'])));
    // The same own labels under other suffixes of the question: other names.
    const second = targetsOf(
      answer(
        name,
        recordsFor(['x.default.svc.cluster.local', 'web-0.web.default.svc.cluster.local', 'web-0.cluster.local']),
      ),
    );
    expect(second).toEqual([
      'x.default.svc.cluster.local',
      'web-0.web.default.svc.cluster.local',
      'web-0.cluster.local',
    ]);
    expect(second[1]).toBe(first[0]);
    expect(first[1]).toBe('x.svc.cluster.local');
    const third = targetsOf(answer(name, recordsFor(['web-0.cluster.local'])));
    expect(third[0]).toBe(second[2]);
  });

  it('forgets the targets that pods took with them: memory follows the service, not its history', () => {
    const name = '_http._tcp.web.default.svc.cluster.local';
    const asked = encodeQuestion(name, 'SRV', 1232);
    // 200 answers of three targets each, every target new (pods replaced on every poll).
    for (let poll = 0; poll < 200; poll++) {
      const targets = [0, 1, 2].map((i) => `web-${poll}-${i}.web.default.svc.cluster.local`);
      const raw = answer(
        name,
        targets.map((t) => srvRecord(80, Buffer.concat([labelsOf(t.split('.')), Buffer.from([0])]))),
      );
      const verdict = judgeResponse(raw, 7, asked);
      if (verdict.kind !== 'answer') throw new Error(`expected an answer, got ${verdict.kind}`);
      expect((verdict.message.answers as SrvAnswer[]).map((record) => record.data.target)).toEqual(targets);
      expect(asked.targets?.byKey.size).toBeLessThanOrEqual(2 * 3 + 16 + 3);
    }
    // Those of the latest answer are kept.
    expect([...(asked.targets?.byKey.keys() ?? [])]).toEqual(expect.arrayContaining(['web-199-0', 'web-199-2']));
  });
});

describe('judgeResponse on A and AAAA answers to a kept question', () => {
  const queryFor = (type: 'A' | 'AAAA') => decode(encodeQuery(7, NAME, type, 1232));
  const answerOf = (type: 'A' | 'AAAA', addresses: string[]) =>
    compressedResponseTo(
      queryFor(type),
      addresses.map((data) => ({ type, name: NAME, ttl: 30, class: 'IN' as const, data })),
    );
  const read = (raw: Buffer, asked: ReturnType<typeof encodeQuestion>): string[] => {
    const verdict = judgeResponse(raw, 7, asked);
    if (verdict.kind !== 'answer') throw new Error(`expected an answer, got ${verdict.kind}`);
    return (verdict.message.answers as StringAnswer[]).map((record) => record.data);
  };

  // Addresses that share their last 30 bits (the key they are remembered by) with others:
  // an IPv4 address under each of its four first-octet variants that differ in the top two
  // bits, an IPv6 address under other first words.
  const v4 = fc
    .tuple(fc.ipV4(), fc.integer({ min: 0, max: 3 }))
    .map(([ip, top]) => ip.replace(/^\d+/, (octet) => String((Number(octet) & 0x3f) | (top << 6))));
  const v6 = fc
    .tuple(
      fc.ipV6(),
      fc.integer({ min: 0, max: 0xffff }).map((word) => word.toString(16)),
    )
    .map(([ip, first]) => (ip.includes('.') ? ip : `${first}:0:0:0:0:0:0:${ip.split(':').at(-1) || '1'}`));

  it('reads every address as dns-packet does, answer after answer, whichever addresses share a key', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.record({
            type: fc.constant('A' as const),
            answers: fc.array(fc.array(v4, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 6 }),
          }),
          fc.record({
            type: fc.constant('AAAA' as const),
            answers: fc.array(fc.array(v6, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 6 }),
          }),
        ),
        ({ type, answers }) => {
          const asked = encodeQuestion(NAME, type, 1232, true);
          for (const addresses of answers) {
            const raw = answerOf(type, addresses);
            expect(read(raw, asked)).toEqual(
              ((decode(raw).answers ?? []) as StringAnswer[]).map((record) => record.data),
            );
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('reads an address repeated in the next answer as the same string, without building it again', () => {
    const asked = encodeQuestion(NAME, 'A', 1232, true);
    const first = read(answerOf('A', ['10.1.0.1', '10.1.0.2', '172.16.0.3']), asked);
    const decodeA = vi.spyOn(parts.a, 'decode');
    try {
      // The same addresses in another order, one new, and one with the same last 30 bits as
      // 172.16.0.3 (44 = 172 without its top bit).
      const second = read(answerOf('A', ['172.16.0.3', '10.1.0.2', '10.1.0.9', '10.1.0.1', '44.16.0.3']), asked);
      expect(second).toEqual(['172.16.0.3', '10.1.0.2', '10.1.0.9', '10.1.0.1', '44.16.0.3']);
      expect(second[0]).toBe(first[2]);
      expect(second[3]).toBe(first[0]);
      expect(decodeA).toHaveBeenCalledTimes(2);
    } finally {
      decodeA.mockRestore();
    }
    // A question not kept (asked once: a pod's name) remembers nothing.
    const once = encodeQuestion(NAME, 'A', 1232);
    read(answerOf('A', ['10.1.0.1']), once);
    expect(once.addresses).toBeUndefined();
  });

  it('forgets the addresses that pods took with them', () => {
    const asked = encodeQuestion(NAME, 'AAAA', 1232, true);
    for (let poll = 0; poll < 200; poll++) {
      const addresses = [1, 2, 3].map((i) => `fd00::${(poll + 1).toString(16)}:${i}`);
      expect(read(answerOf('AAAA', addresses), asked)).toEqual(addresses);
      expect(asked.addresses?.byKey.size).toBeLessThanOrEqual(2 * 3 + 16 + 3);
    }
    expect(read(answerOf('AAAA', ['fd00::c8:1']), asked)).toEqual(['fd00::c8:1']);
  });
});

describe('answer helpers', () => {
  it('canonicalName lower-cases and drops the trailing dot', () => {
    expect(canonicalName('Kafka-0.Example.')).toBe('kafka-0.example');
  });

  it('minTtl takes the smallest TTL, or the fallback', () => {
    expect(minTtl([aRecord(NAME, '10.0.0.1', 30), aRecord(NAME, '10.0.0.2', 5)], 99)).toBe(5);
    expect(minTtl([], 99)).toBe(99);
  });

  it('answersFor follows CNAMEs and stops on a loop', () => {
    const message = decode(
      responseTo(query, {
        answers: [
          { type: 'CNAME', name: NAME, ttl: 5, class: 'IN', data: 'a.example' },
          { type: 'CNAME', name: 'a.example', ttl: 5, class: 'IN', data: NAME },
          aRecord('a.example', '10.0.0.5'),
        ],
      }),
    );
    expect(
      answersFor({ answers: message.answers ?? [] }, NAME, 'A').map((record) =>
        'data' in record ? record.data : undefined,
      ),
    ).toEqual(['10.0.0.5']);
  });
});
