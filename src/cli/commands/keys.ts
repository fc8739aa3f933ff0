import { accessSync, constants, existsSync, rmSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../../config';
import type { KeyFilePaths } from '../../gateway/key-files';
import { KeyFileError, initKeys, listKeys, retireKey, rotateKey } from '../../gateway/key-files';
import { AgentId } from '../../signing';
import { CliError } from '../errors';
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

/**
 * Why `path` cannot be created, or null when it can: its nearest existing ancestor must be a
 * writable directory (the directories in between are created when the file is written).
 */
function cannotCreate(path: string): string | null {
  let dir = dirname(resolve(path));
  while (!existsSync(dir)) {
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  try {
    if (!statSync(dir).isDirectory()) return `${dir} is not a directory`;
    accessSync(dir, constants.W_OK);
  } catch (err) {
    return `${dir} is not writable (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`;
  }
  return null;
}

/**
 * `initKeys`, all or nothing: both destinations are checked before either file is written,
 * and if writing the agent file still fails, the gateway keys file written just before is
 * removed, so a failed init never leaves half a pair behind.
 */
export function initKeysBoth(p: KeyFilePaths, agentId: string): ReturnType<typeof initKeys> {
  if (resolve(p.keysFile) === resolve(p.agentFile)) throw new CliError(`the gateway keys file and the agent key file must be two files (both are ${p.keysFile})`);
  const fresh = !existsSync(p.keysFile) && !existsSync(p.agentFile);
  if (fresh) {
    for (const [what, path] of [['gateway keys file', p.keysFile], ['agent key file', p.agentFile]] as const) {
      const why = cannotCreate(path);
      if (why) throw new CliError(`cannot create the ${what} ${path}: ${why}; nothing was written`);
    }
  }
  try {
    return initKeys(p, agentId);
  } catch (err) {
    if (err instanceof KeyFileError || !fresh) throw err;
    let undone = '';
    if (existsSync(p.keysFile) && !existsSync(p.agentFile)) {
      rmSync(p.keysFile, { force: true });
      undone = `; removed the gateway keys file ${p.keysFile} written just before`;
    }
    throw new CliError(`cannot create the keys: ${(err as Error).message}${undone}`);
  }
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
    .action((opts: PathOpts & { agent: string }) => {
      const r = initKeysBoth(paths(opts), opts.agent);
      process.stdout.write(r.created ? `created key ${r.keyId} for agent ${r.agentId}\n` : `keys exist: agent ${r.agentId} signs with ${r.keyId}\n`);
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
