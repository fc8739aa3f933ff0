import type { Command } from 'commander';
import { loadConfig } from '../../config';
import type { KeyFilePaths } from '../../gateway/key-files';
import { initKeys, listKeys, retireKey, rotateKey } from '../../gateway/key-files';
import { AgentId } from '../../signing';
import { fromSchema } from '../options';
import { printJson, renderTable } from '../table';

interface PathOpts {
  keysFile?: string;
  agentFile?: string;
}

function paths(opts: PathOpts): KeyFilePaths {
  if (opts.keysFile && opts.agentFile) return { keysFile: opts.keysFile, agentFile: opts.agentFile };
  const config = loadConfig();
  return { keysFile: opts.keysFile ?? config.gateway.keysFile, agentFile: opts.agentFile ?? config.agentKeyFile };
}

function withPathOptions(cmd: Command): Command {
  return cmd
    .option('--keys-file <path>', 'gateway keys file (default: DOCKMEDIC_GATEWAY_KEYS_FILE or <state>/keys/gateway-keys.json)')
    .option('--agent-file <path>', 'agent key file (default: DOCKMEDIC_AGENT_KEY_FILE or <state>/keys/agent.json)');
}

/** `dockmedic keys …`: manage the agents' HMAC keys. Secrets are written with mode 0600 and never printed. */
export function registerKeys(program: Command): void {
  const keys = program
    .command('keys')
    .description('Manage the HMAC keys agents sign gateway calls with (secrets are never printed)')
    .addHelpText('after', '\nRotation: `keys rotate` → restart the worker → `keys retire <old key id>`. Both keys verify in between.\nThe gateway picks up changes to the keys file by itself (or on SIGHUP).');

  withPathOptions(keys.command('init'))
    .description('Create the keys file and the agent file with one live key, unless they exist (idempotent)')
    .option('--agent <id>', 'agent id (1–64 characters from A–Z a–z 0–9 _ . -)', fromSchema('--agent', AgentId), 'dockmedic-worker')
    .option('--json', 'print {created, agentId, keyId} as JSON')
    .action((opts: PathOpts & { agent: string; json?: boolean }) => {
      const r = initKeys(paths(opts), opts.agent);
      if (opts.json) printJson(r);
      else process.stdout.write(r.created ? `created key ${r.keyId} for agent ${r.agentId}\n` : `keys exist: agent ${r.agentId} signs with ${r.keyId}\n`);
    });

  withPathOptions(keys.command('rotate'))
    .description('Issue a new live key for the agent and switch the agent file to it; the old key stays live until retired')
    .action((opts: PathOpts) => {
      const r = rotateKey(paths(opts));
      process.stdout.write(
        r.previousLive
          ? `agent ${r.agentId} now signs with ${r.keyId}; ${r.previousKeyId} is still live.\nRestart the worker, then: dockmedic keys retire ${r.previousKeyId}\n`
          : `agent ${r.agentId} now signs with ${r.keyId} (the previous key ${r.previousKeyId} was already retired).\nRestart the worker to use it.\n`,
      );
    });

  withPathOptions(keys.command('retire'))
    .description('Retire a key: the gateway refuses it with key_retired')
    .argument('<keyId>', 'the key to retire')
    .option('--force', 'retire it even though the agent file still signs with it')
    .action((keyId: string, opts: PathOpts & { force?: boolean }) => {
      const r = retireKey(paths(opts), keyId, { force: opts.force });
      process.stdout.write(r.changed ? `retired ${keyId} of agent ${r.agentId}\n` : `${keyId} of agent ${r.agentId} was already retired\n`);
    });

  withPathOptions(keys.command('list'))
    .description('List agents and their keys (ids, status, creation time; never secrets)')
    .option('--json', 'print JSON')
    .action((opts: PathOpts & { json?: boolean }) => {
      const rows = listKeys(paths(opts));
      if (opts.json) printJson(rows);
      else process.stdout.write(renderTable(['AGENT', 'KEY ID', 'STATUS', 'CREATED', 'IN USE'], rows.map((r) => [r.agentId, r.keyId, r.status, r.createdAt ?? '-', r.inUse ? 'yes' : ''])) + '\n');
    });
}
