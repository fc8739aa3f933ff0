import { accessSync, chmodSync, closeSync, constants, existsSync, mkdirSync, openSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { AgentCredentials, GatewayKeys } from '../signing';
import { AgentId, KeyFileError, generateKeyId, generateSecret, readAgentFile, readGatewayKeysFile } from '../signing';

export { KeyFileError, readAgentFile };

export interface KeyFilePaths {
  /** The gateway's keys file (every agent's keys). */
  keysFile: string;
  /** The agent's own credentials (the key it signs with). */
  agentFile: string;
}

/** Write JSON readable by the owner only, atomically (a reader never sees half a file). */
export function writePrivateJson(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(value, null, 2) + '\n', { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

/**
 * Why `path` cannot be created, or null when it can: its nearest existing ancestor must be a
 * writable directory (the directories in between are created when the file is written).
 */
function cannotCreate(path: string): string | null {
  let dir = dirname(resolve(path));
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  try {
    if (!statSync(dir).isDirectory()) return `${dir} is not a directory`;
    accessSync(dir, constants.W_OK);
  } catch (err) {
    return `${dir} is not writable (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`;
  }
  return null;
}

/**
 * Where an interrupted `initKeys` left the gateway's half of a new pair: a fixed name, so the
 * next run finds it — the same name the old scripts/gen-keys.sh used, so its leftovers are completed too.
 */
function pendingKeysFile(paths: KeyFilePaths): string {
  return `${paths.keysFile}.tmp`;
}

/** Owner-only modes on the key files, whoever loosened them (the content is theirs; their directories may be shared, so they are left alone). */
function tightenModes(paths: KeyFilePaths): void {
  for (const file of [paths.keysFile, paths.agentFile]) {
    try {
      chmodSync(file, 0o600);
    } catch {
      // Not ours to change (another owner, a read-only mount): the pair is still usable as it is.
    }
  }
}

/**
 * A run interrupted between its two renames left the agent file and the pending keys file: the
 * pair is complete when the pending file holds the agent's key, and is finished by renaming it.
 */
function finishInterruptedInit(paths: KeyFilePaths): AgentCredentials | null {
  const pending = pendingKeysFile(paths);
  if (!existsSync(paths.agentFile) || existsSync(paths.keysFile) || !existsSync(pending)) return null;
  let agent: AgentCredentials;
  let keys: GatewayKeys;
  try {
    agent = readAgentFile(paths.agentFile);
    keys = readGatewayKeysFile(pending);
  } catch {
    return null;
  }
  const key = keys.agents[agent.agentId]?.find((k) => k.keyId === agent.keyId && k.secret === agent.secret);
  if (!key) return null;
  chmodSync(pending, 0o600);
  renameSync(pending, paths.keysFile);
  return agent;
}

/**
 * Create the gateway keys file and the agent file with one live key, unless they exist — the one
 * way keys are created (setup and the compose file's keys-init both run `dockmedic keys init`).
 * Idempotent: with both files present it only tightens their modes to 0600. All or nothing:
 * both destinations are checked before either is written; both halves are written under
 * temporary names and renamed agent file first, so an interruption leaves either nothing, or
 * the agent file plus `<keys file>.pending`, which the next run completes. A half pair it cannot
 * complete is refused.
 */
export function initKeys(paths: KeyFilePaths, agentId = 'dockmedic-worker'): { created: boolean; agentId: string; keyId: string } {
  if (resolve(paths.keysFile) === resolve(paths.agentFile)) throw new KeyFileError(`the gateway keys file and the agent key file must be two files (both are ${paths.keysFile})`);
  const finished = finishInterruptedInit(paths);
  if (finished) {
    tightenModes(paths);
    return { created: false, agentId: finished.agentId, keyId: finished.keyId };
  }
  const haveKeys = existsSync(paths.keysFile);
  const haveAgent = existsSync(paths.agentFile);
  if (haveKeys && haveAgent) {
    const agent = readAgentFile(paths.agentFile);
    tightenModes(paths);
    return { created: false, agentId: agent.agentId, keyId: agent.keyId };
  }
  if (haveKeys !== haveAgent) {
    throw new KeyFileError(`only one of ${paths.keysFile} and ${paths.agentFile} exists; restore the other or remove both to start over`);
  }
  const id = AgentId.safeParse(agentId);
  if (!id.success) throw new KeyFileError(id.error.issues.map((i) => i.message).join('; '));
  for (const [what, path] of [['gateway keys file', paths.keysFile], ['agent key file', paths.agentFile]] as const) {
    const why = cannotCreate(path);
    if (why) throw new KeyFileError(`cannot create the ${what} ${path}: ${why}; nothing was written`);
  }
  const keyId = generateKeyId();
  const secret = generateSecret();
  const createdAt = new Date().toISOString();
  const pending = pendingKeysFile(paths);
  try {
    writePrivateJson(pending, { agents: { [agentId]: [{ keyId, secret, status: 'live', createdAt }] } } satisfies GatewayKeys);
    writePrivateJson(paths.agentFile, { agentId, keyId, secret } satisfies AgentCredentials);
  } catch (err) {
    rmSync(pending, { force: true });
    throw new KeyFileError(`cannot write the key files (${paths.keysFile}, ${paths.agentFile}): ${(err as Error).message}; nothing was left behind`);
  }
  renameSync(pending, paths.keysFile);
  return { created: true, agentId, keyId };
}

/**
 * Issue a new live key for the agent and switch the agent file to it. The previous key stays
 * live, so calls signed by a worker that has not restarted yet still verify; retire it with
 * `retireKey` once the worker uses the new one. At most two live keys per agent.
 */
export function rotateKey(paths: KeyFilePaths): { agentId: string; keyId: string; previousKeyId: string; previousLive: boolean } {
  const keys = readGatewayKeysFile(paths.keysFile);
  const agent = readAgentFile(paths.agentFile);
  const list = keys.agents[agent.agentId];
  if (!list) throw new KeyFileError(`the gateway keys file has no agent ${agent.agentId}`);
  const live = list.filter((k) => k.status === 'live');
  if (live.length >= 2) {
    const older = live.find((k) => k.keyId !== agent.keyId) ?? live[0]!;
    throw new KeyFileError(`agent ${agent.agentId} already has two live keys (${live.map((k) => k.keyId).join(', ')}); retire one first: dockmedic keys retire ${older.keyId}`);
  }
  const keyId = generateKeyId();
  const secret = generateSecret();
  list.push({ keyId, secret, status: 'live', createdAt: new Date().toISOString() });
  writePrivateJson(paths.keysFile, keys);
  writePrivateJson(paths.agentFile, { agentId: agent.agentId, keyId, secret } satisfies AgentCredentials);
  return { agentId: agent.agentId, keyId, previousKeyId: agent.keyId, previousLive: live.some((k) => k.keyId === agent.keyId) };
}

/** Mark a key retired: the gateway refuses it (`key_retired`). Refuses to retire the key the agent signs with unless forced. */
export function retireKey(paths: KeyFilePaths, keyId: string, opts: { force?: boolean } = {}): { agentId: string; changed: boolean } {
  const keys = readGatewayKeysFile(paths.keysFile);
  for (const [agentId, list] of Object.entries(keys.agents)) {
    const key = list.find((k) => k.keyId === keyId);
    if (!key) continue;
    if (key.status === 'retired') return { agentId, changed: false };
    if (!opts.force && existsSync(paths.agentFile)) {
      const agent = readAgentFile(paths.agentFile);
      if (agent.keyId === keyId) {
        const other = list.find((k) => k.status === 'live' && k.keyId !== keyId);
        // Rotation needs a free slot (two live keys at most): say the whole way out, not a step that would fail.
        const steps = other
          ? `retire the other live key first (dockmedic keys retire ${other.keyId}), then \`dockmedic keys rotate\`, restart the worker, and retire ${keyId}`
          : `run \`dockmedic keys rotate\` first and restart the worker`;
        throw new KeyFileError(`the agent file ${paths.agentFile} still signs with ${keyId}; ${steps} (or --force)`);
      }
    }
    key.status = 'retired';
    writePrivateJson(paths.keysFile, keys);
    return { agentId, changed: true };
  }
  throw new KeyFileError(`no key ${keyId} in ${paths.keysFile}`);
}

export interface KeyRow {
  agentId: string;
  keyId: string;
  status: 'live' | 'retired';
  createdAt: string | null;
  /** The agent file signs with this key. */
  inUse: boolean;
}

/** Every key, without secrets. */
export function listKeys(paths: KeyFilePaths): KeyRow[] {
  const keys = readGatewayKeysFile(paths.keysFile);
  const current = existsSync(paths.agentFile) ? readAgentFile(paths.agentFile) : null;
  return Object.entries(keys.agents).flatMap(([agentId, list]) =>
    list.map((k) => ({ agentId, keyId: k.keyId, status: k.status, createdAt: k.createdAt ?? null, inUse: current?.agentId === agentId && current.keyId === k.keyId })),
  );
}

/** Sleep without an event loop (key files are handled synchronously, like the rest of this file). */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Run `fn` holding `<keys file>.lock` (exclusive create), so two processes adding agents at once
 * cannot lose each other's update of the keys file. A lock older than 30 s is a crashed holder's.
 */
function withKeysFileLock<T>(keysFile: string, fn: () => T): T {
  const lock = `${keysFile}.lock`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      closeSync(openSync(lock, 'wx', 0o600));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new KeyFileError(`cannot lock ${keysFile}: ${(err as Error).message}`);
      try {
        if (Date.now() - statSync(lock).mtimeMs > 30_000) rmSync(lock, { force: true });
      } catch {
        /* released meanwhile */
      }
      if (Date.now() > deadline) throw new KeyFileError(`${lock} is held by another process; try again (remove it if no dockmedic process is running)`);
      sleepSync(50);
    }
  }
  try {
    return fn();
  } finally {
    rmSync(lock, { force: true });
  }
}

/**
 * Give a second agent (the MCP server, docs/architecture.md §4) its own key next to an existing
 * keys file: its own agent file, and its key added to the gateway's keys file, so its calls carry
 * their own budget and audit records. Idempotent: an agent file whose key the keys file holds
 * live is left alone. The agent file is written first, so an interruption leaves an agent file
 * whose key is missing from the keys file, which the next run adds. Refused: no keys file yet
 * (`dockmedic keys init` makes it), an agent file of another agent, a retired key, or an agent
 * the keys file knows without its agent file.
 */
export function ensureAgentKey(paths: KeyFilePaths, agentId: string): { created: boolean; agentId: string; keyId: string } {
  const id = AgentId.safeParse(agentId);
  if (!id.success) throw new KeyFileError(id.error.issues.map((i) => i.message).join('; '));
  if (resolve(paths.keysFile) === resolve(paths.agentFile)) throw new KeyFileError(`the gateway keys file and the agent key file must be two files (both are ${paths.keysFile})`);
  if (!existsSync(paths.keysFile)) throw new KeyFileError(`no gateway keys file ${paths.keysFile}: create it first with \`dockmedic keys init\``);
  return withKeysFileLock(paths.keysFile, () => {
    const keys = readGatewayKeysFile(paths.keysFile);
    const list = keys.agents[agentId] ?? [];
    if (existsSync(paths.agentFile)) {
      const agent = readAgentFile(paths.agentFile);
      if (agent.agentId !== agentId) throw new KeyFileError(`${paths.agentFile} belongs to agent ${agent.agentId}, not ${agentId}`);
      const held = list.find((k) => k.keyId === agent.keyId);
      if (held && held.secret !== agent.secret) throw new KeyFileError(`${paths.agentFile} and ${paths.keysFile} disagree about key ${agent.keyId}`);
      if (held?.status === 'retired') {
        throw new KeyFileError(`key ${agent.keyId} of agent ${agentId} is retired: run \`dockmedic keys rotate --agent-file ${paths.agentFile}\``);
      }
      if (!held) {
        // An interrupted earlier run: finish it.
        keys.agents[agentId] = [...list, { keyId: agent.keyId, secret: agent.secret, status: 'live', createdAt: new Date().toISOString() }];
        writePrivateJson(paths.keysFile, keys);
      }
      tightenModes(paths);
      return { created: !held, agentId, keyId: agent.keyId };
    }
    if (list.length > 0) {
      throw new KeyFileError(`${paths.keysFile} has keys for agent ${agentId} but its agent file ${paths.agentFile} is missing: restore it, or retire those keys and remove the agent from the keys file`);
    }
    const keyId = generateKeyId();
    const secret = generateSecret();
    writePrivateJson(paths.agentFile, { agentId, keyId, secret } satisfies AgentCredentials);
    keys.agents[agentId] = [{ keyId, secret, status: 'live', createdAt: new Date().toISOString() }];
    writePrivateJson(paths.keysFile, keys);
    return { created: true, agentId, keyId };
  });
}
