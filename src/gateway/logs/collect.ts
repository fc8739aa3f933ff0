import type { Readable } from 'node:stream';

/**
 * Read a Docker log stream and keep only its most recent lines, within `maxBytes` of raw
 * text, whatever the stream's length: the gateway never holds more than about twice the cap.
 * `multiplexed` streams (containers without a TTY) carry 8-byte frame headers
 * `[stream, 0, 0, 0, size(uint32 BE)]`; stdout and stderr lines are kept apart until complete.
 */
export async function collectTail(stream: Readable, opts: { multiplexed: boolean; maxBytes: number }): Promise<{ lines: string[]; dropped: boolean }> {
  const lines: Buffer[] = [];
  let kept = 0;
  let dropped = false;
  const partial = new Map<number, Buffer[]>();
  const partialSize = new Map<number, number>();
  /** Streams whose current line lost its beginning: its first, partial token is dropped when it completes. */
  const cutHead = new Set<number>();

  const pushLine = (buf: Buffer) => {
    lines.push(buf);
    kept += buf.length;
    while (kept > opts.maxBytes && lines.length > 1) {
      kept -= lines.shift()!.length;
      dropped = true;
    }
  };
  const addPayload = (streamId: number, data: Buffer) => {
    let start = 0;
    for (let nl = data.indexOf(10, start); nl !== -1; nl = data.indexOf(10, start)) {
      const parts = partial.get(streamId) ?? [];
      parts.push(data.subarray(start, nl));
      partial.delete(streamId);
      partialSize.delete(streamId);
      pushLine(completeLine(Buffer.concat(parts), cutHead.delete(streamId)));
      start = nl + 1;
    }
    if (start < data.length) {
      const parts = partial.get(streamId) ?? [];
      parts.push(data.subarray(start));
      let size = (partialSize.get(streamId) ?? 0) + data.length - start;
      // One endless line: keep its end, bounded.
      while (size > opts.maxBytes && parts.length > 1) {
        size -= parts.shift()!.length;
        dropped = true;
        cutHead.add(streamId);
      }
      partial.set(streamId, parts);
      partialSize.set(streamId, size);
    }
  };

  let pending: Buffer = Buffer.alloc(0);
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    if (!opts.multiplexed) {
      addPayload(1, chunk);
      continue;
    }
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    while (pending.length >= 8) {
      const size = pending.readUInt32BE(4);
      if (pending.length < 8 + size) break;
      addPayload(pending[0] ?? 1, pending.subarray(8, 8 + size));
      pending = pending.subarray(8 + size);
    }
  }
  for (const [id, parts] of partial) if (parts.length) pushLine(completeLine(Buffer.concat(parts), cutHead.has(id)));
  return { lines: lines.map((b) => b.toString('utf8').replace(/\r$/, '')), dropped };
}

/** A line that lost its beginning starts at its first whole token, so no half-secret escapes redaction. */
function completeLine(line: Buffer, cut: boolean): Buffer {
  if (!cut) return line;
  const space = line.indexOf(32);
  return space === -1 ? Buffer.alloc(0) : line.subarray(space + 1);
}

/** Keep the most recent lines whose UTF-8 size fits in `maxBytes`; an over-long single line keeps its end, cut at a space. */
export function capLines(lines: string[], maxBytes: number): { lines: string[]; truncated: boolean } {
  const out: string[] = [];
  let total = 0;
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!;
    const size = Buffer.byteLength(line) + 1;
    if (total + size > maxBytes) {
      if (out.length === 0) {
        // Cut the line at a space so no half-token (possibly half a secret) survives at the edge.
        const tail = Buffer.from(line).subarray(-maxBytes + 1).toString('utf8');
        const cut = tail.indexOf(' ');
        out.unshift(cut === -1 ? '' : tail.slice(cut + 1));
      }
      return { lines: out, truncated: true };
    }
    out.unshift(line);
    total += size;
  }
  return { lines: out, truncated: false };
}
