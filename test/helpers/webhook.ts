import { createServer } from 'node:http';

/**
 * How the stand-in webhook treats a request: answer 200, answer 503, never answer (a webhook
 * that hangs), or drop the connection (a webhook that is down).
 */
export type WebhookMode = 'ok' | 'fail' | 'hang' | 'reset';

/** One request the webhook got: its raw body, what it was answered, when. */
export interface WebhookAttempt {
  body: string;
  mode: WebhookMode;
  at: number;
}

/** A local stand-in for the Slack-compatible webhook: every page it received, as its raw body. */
export interface WebhookRecorder {
  url: string;
  /** Bodies of the requests answered 200: the pages that went out. */
  pages: string[];
  /** Every request, answered or not. */
  attempts: WebhookAttempt[];
  /** How later requests are treated (`ok` at start). */
  mode: WebhookMode;
  close(): Promise<void>;
}

export async function startWebhookRecorder(): Promise<WebhookRecorder> {
  const pages: string[] = [];
  const attempts: WebhookAttempt[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const mode = recorder.mode;
      attempts.push({ body, mode, at: Date.now() });
      if (mode === 'ok') {
        pages.push(body);
        res.writeHead(200).end('ok');
      } else if (mode === 'fail') res.writeHead(503).end('unavailable');
      else if (mode === 'reset') req.socket.destroy();
      // 'hang': the request is left open until the caller gives up or the recorder closes.
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  const recorder: WebhookRecorder = {
    url: `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/hook`,
    pages,
    attempts,
    mode: 'ok',
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
  return recorder;
}
