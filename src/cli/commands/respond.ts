import type { Command } from 'commander';
import { loadConfig } from '../../config';
import { connectTemporal } from '../../runtime/temporal';
import { CliError, NotWaitingError } from '../errors';
import { describeIncident, NO_WORKER, queryState } from '../incident-view';
import { printJson } from '../table';
import type { ResponseAction } from '../../contract/incident';
import { respondSignal } from '../../contract/signals';
import { EXIT } from '../exit-codes';

/** CLI words for the respond signal's actions. */
const WORDS: Record<string, ResponseAction> = { approve: 'approve', reject: 'reject', ack: 'acknowledge', acknowledge: 'acknowledge', resolve: 'resolve' };

/** `dockmedic respond ID approve|reject|ack|resolve --by NAME [--comment TEXT]`. */
export function registerRespond(program: Command): void {
  program
    .command('respond <id> <action>')
    .description('Answer an escalation: approve (run the proposed action), reject (close, no action), ack, resolve')
    .requiredOption('--by <name>', 'who answers (recorded in history)')
    .option('--comment <text>', 'free text recorded with the response')
    .option('--json', 'print JSON')
    .action(async (id: string, word: string, opts: { by: string; comment?: string; json?: boolean }) => {
      const action = WORDS[word];
      if (!action) throw new CliError(`unknown action '${word}': use approve, reject, ack or resolve`, EXIT.badInput, 'invalid_argument');
      if (!/^[\w.@ -]{1,64}$/.test(opts.by)) throw new CliError('--by must be 1–64 characters of letters, digits, space, . _ @ -', EXIT.badInput, 'invalid_argument');
      if (opts.comment !== undefined && opts.comment.length > 2000) throw new CliError('--comment is limited to 2000 characters', EXIT.badInput, 'invalid_argument');
      const config = loadConfig();
      const client = await connectTemporal(config);
      try {
        const handle = client.workflow.getHandle(id);
        const desc = await describeIncident(handle, id);
        if (desc.status.name !== 'RUNNING') throw new NotWaitingError(`incident ${id} is closed (${desc.status.name.toLowerCase()}); nothing to answer`);
        const state = await queryState(client, id);
        if (!state) throw new CliError(`cannot tell whether incident ${id} is waiting: ${NO_WORKER}; nothing was sent`, EXIT.unavailable, 'no_worker');
        const pending = state.pendingEscalation;
        if (!pending) throw new NotWaitingError(`incident ${id} is not waiting for a response (phase ${state.phase})`);
        if (!pending.waitingFor.includes(action)) {
          throw new NotWaitingError(`incident ${id} is waiting for ${pending.waitingFor.join(' | ')}, not ${action}`);
        }
        const response = { action, by: opts.by, ...(opts.comment ? { comment: opts.comment } : {}), at: new Date().toISOString() };
        await handle.signal(respondSignal, response);
        if (opts.json) return printJson({ id, sent: response });
        process.stdout.write(`${action} sent to ${id} by ${opts.by}\n`);
      } finally {
        await client.connection.close();
      }
    });
}
