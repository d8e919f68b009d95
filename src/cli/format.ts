import { styleText } from 'node:util';
import type { Peer } from '../watch/peer.js';

type Style = Parameters<typeof styleText>[0];

/** Colours for a terminal, nothing for a pipe or with NO_COLOR. */
export function painter(stream: NodeJS.WritableStream & { isTTY?: boolean }): (style: Style, text: string) => string {
  const colour = stream.isTTY === true && !process.env.NO_COLOR;
  return colour ? (style, text) => styleText(style, text) : (_style, text) => text;
}

/** A fixed-width table of peers. */
export function peerTable(peers: readonly Peer[]): string {
  if (peers.length === 0) return '  (no peers)\n';
  const rows = peers.map((peer) => [
    peer.name ?? peer.id,
    peer.addresses.join(' '),
    peer.port === undefined ? '-' : String(peer.port),
    peer.ordinal === undefined ? '-' : String(peer.ordinal),
    peer.weight === undefined ? '-' : `${peer.priority ?? 0}/${peer.weight}`,
  ]);
  return textTable(['NAME', 'ADDRESSES', 'PORT', 'ORDINAL', 'PRIO/WEIGHT'], rows);
}

/** A fixed-width table: the header, then a line per row, columns as wide as their widest cell. */
export function textTable(header: readonly string[], rows: readonly string[][]): string {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    `  ${cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ')}`.trimEnd();
  return `${[line(header), ...rows.map(line)].join('\n')}\n`;
}
