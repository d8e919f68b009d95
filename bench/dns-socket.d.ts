declare module 'dns-socket' {
  import type { Packet } from 'dns-packet';

  interface DnsSocket {
    query(query: Packet, port: number, host: string, callback: (err: Error | null, response: Packet) => void): number;
    destroy(): void;
  }
  function dnsSocket(options?: { timeout?: number; retries?: number }): DnsSocket;
  export default dnsSocket;
}
