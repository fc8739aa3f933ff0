import type { Readable } from 'node:stream';
import { timedDocker } from '../context';
import { dockerRefusal } from '../docker/docker-errors';
import { capLines, collectTail } from '../logs/collect';
import { sanitizeLine } from '../logs/sanitize';
import { defineTool } from './tool';
import type { LogsResult } from '../../contract/gateway';
import { CheckContainerLogsArgs } from '../../contract/gateway';
import { bareName } from '../../contract/container';

/**
 * Read-only: the last lines of a container's logs, capped in lines and bytes, demultiplexed,
 * control characters stripped and secrets redacted — they go to a model and into history.
 */
export const checkContainerLogs = defineTool({
  name: 'check_container_logs',
  description: 'The most recent log lines of an opted-in container (capped, control characters stripped, secrets redacted).',
  schema: CheckContainerLogsArgs,
  mutating: false,
  execute: async (args, target, _plan, env) => {
    const tail = Math.min(args.tail, env.logTailMax);
    // One line more than the cap tells whether the cap cut anything the caller asked for.
    const fetchTail = args.tail > tail ? tail + 1 : tail;
    let collected: { lines: string[]; dropped: boolean };
    try {
      collected = await timedDocker(env.ctx, async () => {
        // dockerode buffers non-follow logs whole; dialling as a stream keeps memory bounded.
        const stream = await new Promise<Readable>((resolve, reject) => {
          env.docker.modem.dial(
            {
              path: `/containers/${target.Id}/logs?`,
              method: 'GET',
              isStream: true,
              statusCodes: { 200: true, 404: 'no such container', 500: 'server error' },
              options: { stdout: true, stderr: true, follow: false, tail: String(fetchTail) },
            },
            (err, data) => (err ? reject(err) : resolve(data as Readable)),
          );
        });
        return collectTail(stream, { multiplexed: !target.Config.Tty, maxBytes: 2 * env.logBytesMax });
      });
    } catch (err) {
      throw dockerRefusal(err, 'logs');
    }
    let redactions = 0;
    const clean = collected.lines.slice(-tail).map((raw) => {
      const s = sanitizeLine(raw);
      redactions += s.redactions;
      return s.line;
    });
    const capped = capLines(clean, env.logBytesMax);
    const result: LogsResult = {
      container: bareName(target.Name),
      lines: capped.lines,
      truncated: capped.truncated || collected.dropped || collected.lines.length > tail,
      redactions,
    };
    return { result, summary: { lines: result.lines.length, truncated: result.truncated, redactions } };
  },
});
