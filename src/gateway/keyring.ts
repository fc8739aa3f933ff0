import { statSync } from 'node:fs';
import type { GatewayKeys } from '../signing';
import { KeyFileError, readGatewayKeysFile } from '../signing';

/** One key as the gateway holds it: secret decoded once, owner attached. */
export interface KeyEntry {
  agentId: string;
  keyId: string;
  secret: Buffer;
  status: 'live' | 'retired';
}

/** Index a key file by key id. A key id used twice is an error: it would make the owner ambiguous. */
export function indexKeys(keys: GatewayKeys): Map<string, KeyEntry> {
  const byId = new Map<string, KeyEntry>();
  for (const [agentId, list] of Object.entries(keys.agents)) {
    for (const k of list) {
      if (byId.has(k.keyId)) throw new KeyFileError(`key id ${k.keyId} appears more than once in the keys file`);
      byId.set(k.keyId, { agentId, keyId: k.keyId, secret: Buffer.from(k.secret, 'hex'), status: k.status });
    }
  }
  return byId;
}


/**
 * The gateway's keys, read from the keys file and re-read when the file changes (checked at most
 * every `reloadIntervalMs`), so `dockmedic keys rotate/retire` take effect without a restart.
 * A file that no longer parses keeps the last good keys and reports the problem once.
 */
export class Keyring {
  private byId: Map<string, KeyEntry>;
  private mtimeMs = 0;
  private size = 0;
  private lastCheck = 0;

  constructor(
    private readonly path: string,
    private readonly reloadIntervalMs = 1000,
    private readonly onReloadError: (err: Error) => void = () => {},
  ) {
    this.byId = indexKeys(readGatewayKeysFile(path));
    this.remember();
  }

  private remember(): void {
    try {
      const st = statSync(this.path);
      this.mtimeMs = st.mtimeMs;
      this.size = st.size;
    } catch {
      /* reported on the next reload */
    }
  }

  /** Re-read the file now (SIGHUP, tests). Throws if it does not parse. */
  reload(): void {
    this.byId = indexKeys(readGatewayKeysFile(this.path));
    this.remember();
  }

  get(keyId: string): KeyEntry | undefined {
    const now = Date.now();
    // A key id not known yet is checked at once too: an agent added a moment ago (the MCP
    // server's own key, docs/architecture.md §4) must verify on its first call. A stat is cheap.
    if (now - this.lastCheck >= this.reloadIntervalMs || !this.byId.has(keyId)) {
      this.lastCheck = now;
      try {
        const st = statSync(this.path);
        if (st.mtimeMs !== this.mtimeMs || st.size !== this.size) this.reload();
      } catch (err) {
        this.onReloadError(err as Error);
      }
    }
    return this.byId.get(keyId);
  }
}
