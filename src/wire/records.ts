/** SRV record data (RFC 2782). */
export interface SrvData {
  priority: number;
  weight: number;
  port: number;
  /** The target's name as the answer wrote it. */
  target: string;
}

/** SOA record data: `minimum` and the record's TTL give the negative-caching TTL (RFC 2308). */
export interface SoaData {
  mname: string;
  rname: string;
  serial: number;
  refresh: number;
  retry: number;
  expire: number;
  minimum: number;
}

/** The data of each record type a {@link DnsResult} can hold. */
export interface RecordData {
  A: string;
  AAAA: string;
  PTR: string;
  CNAME: string;
  NS: string;
  SRV: SrvData;
  SOA: SoaData;
}

/** A record type a {@link DnsResult} can hold. */
export type RecordType = keyof RecordData;

/**
 * A resource record, its `data` typed by its `type`: narrow on `type` to read it.
 *
 * @example
 * for (const record of result.answers) if (record.type === 'SRV') console.log(record.data.port);
 */
export type DnsRecord = {
  [T in RecordType]: {
    type: T;
    /** The owner name as the answer wrote it. */
    name: string;
    /** Seconds. */
    ttl: number;
    class: string;
    /** The mDNS cache-flush bit; false in unicast DNS. */
    flush: boolean;
    data: RecordData[T];
  };
}[RecordType];

const TYPES: ReadonlySet<string> = new Set<RecordType>(['A', 'AAAA', 'PTR', 'CNAME', 'NS', 'SRV', 'SOA']);

/** Whether a decoded record is of a type {@link DnsRecord} describes. */
export function isDnsRecord(record: { type: string }): record is DnsRecord {
  return TYPES.has(record.type);
}

/** The records of one type: `RecordOf<'SRV'>`. */
export type RecordOf<T extends RecordType> = Extract<DnsRecord, { type: T }>;
