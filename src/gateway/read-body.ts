import type { IncomingMessage } from 'node:http';
import { Refusal } from './refusal';

/**
 * Read a request body of at most `maxBytes`. A declared Content-Length above the limit is
 * refused before a byte is read; a chunked body is counted as it streams and refused the
 * moment it passes the limit, so nothing unbounded is ever held in memory.
 */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > maxBytes) {
    return Promise.reject(new Refusal('body_too_large', `body of ${declared} bytes exceeds the limit of ${maxBytes}`));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (err: Error | null, body?: Buffer) => {
      if (done) return;
      done = true;
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('aborted', onAborted);
      if (err) reject(err);
      else resolve(body ?? Buffer.alloc(0));
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        chunks.length = 0;
        // Keep discarding what is still in flight so the refusal can be delivered; the server closes the connection after it.
        req.resume();
        finish(new Refusal('body_too_large', `body exceeds the limit of ${maxBytes} bytes`));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => finish(null, chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size));
    // The client went away mid-body: its request is refused (and audited) like any other, not reported as a gateway fault.
    const onError = (err: Error) => finish(new Refusal('body_incomplete', `the request body could not be read: ${err.message}`.slice(0, 200)));
    const onAborted = () => finish(new Refusal('body_incomplete', 'the client closed the connection before sending the whole body'));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('aborted', onAborted);
  });
}
