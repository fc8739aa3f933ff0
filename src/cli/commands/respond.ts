import type { Command } from 'commander';
import { loadConfig } from '../../config';
import { connectTemporal } from '../../runtime/temporal';
import { CliError } from '../errors';
import { RESPONDER_PATTERN, sendResponse } from '../incident-respond';
import { printJson } from '../table';
import type { ResponseAction } from '../../contract/incident';

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
      if (!action) throw new CliError(`unknown action '${word}': use approve, reject, ack or resolve`);
      if (!RESPONDER_PATTERN.test(opts.by)) throw new CliError('--by must be 1–64 characters of letters, digits, space, . _ @ -');
      if (opts.comment !== undefined && opts.comment.length > 2000) throw new CliError('--comment is limited to 2000 characters');
      const config = loadConfig();
      const client = await connectTemporal(config);
      try {
        const response = await sendResponse(client, id, { action, by: opts.by, comment: opts.comment });
        if (opts.json) return printJson({ id, sent: response });
        process.stdout.write(`${action} sent to ${id} by ${opts.by}\n`);
      } finally {
        await client.connection.close();
      }
    });
}
