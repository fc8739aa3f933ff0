/** A structured log line writer: one JSON object per line on stderr. Never pass secrets to it. */
export type Log = (record: Record<string, unknown>) => void;

export function createLog(component: string, stream: NodeJS.WritableStream = process.stderr): Log {
  return (record) => stream.write(`${JSON.stringify({ time: new Date().toISOString(), component, ...record })}\n`);
}

/** Run `stop` once on SIGINT/SIGTERM; a second signal exits at once. */
export function onShutdownSignal(stop: (signal: NodeJS.Signals) => Promise<void>): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(130);
    stopping = true;
    stop(signal).then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`error during shutdown: ${(err as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}
