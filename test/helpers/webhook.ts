import { createServer } from 'node:http';

/** A local stand-in for the Slack-compatible webhook: every page it received, as its raw body. */
export interface WebhookRecorder {
  url: string;
  pages: string[];
  close(): Promise<void>;
}

export async function startWebhookRecorder(): Promise<WebhookRecorder> {
  const pages: string[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      pages.push(body);
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  return {
    url: `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/hook`,
    pages,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
