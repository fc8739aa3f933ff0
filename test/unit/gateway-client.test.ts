import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GatewayClient, GatewayUnavailable } from '../../src/gateway-client';
import { generateKeyId, generateSecret } from '../../src/signing';

/** A plain HTTP server standing in for a gateway that misbehaves on the wire (the client's transport, not the gateway, is under test). */
async function server(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const s = createServer(handler);
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  after(() => {
    s.closeAllConnections();
    s.close();
  });
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
}

const credentials = { agentId: 'unit-agent', keyId: generateKeyId(), secret: generateSecret() };

void describe('GatewayClient transport', () => {
  void it('an answer that never comes → GatewayUnavailable after timeoutMs', async () => {
    const url = await server(() => {});
    const client = new GatewayClient({ baseUrl: url, credentials, timeoutMs: 150 });
    const t0 = Date.now();
    await assert.rejects(client.call('inspect_container', { container: 'x' }), GatewayUnavailable);
    assert.ok(Date.now() - t0 >= 140, 'rejected before the timeout');
  });

  void it('headers sent, body stalled → GatewayUnavailable: the timeout covers the body too', async () => {
    const url = await server((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"result":');
    });
    const client = new GatewayClient({ baseUrl: url, credentials, timeoutMs: 150 });
    await assert.rejects(client.call('inspect_container', { container: 'x' }), GatewayUnavailable);
  });

  void it('the caller’s own abort signal still cancels a call', async () => {
    const url = await server(() => {});
    const client = new GatewayClient({ baseUrl: url, credentials, timeoutMs: 60_000 });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    await assert.rejects(client.call('inspect_container', { container: 'x' }, { signal: ac.signal }), GatewayUnavailable);
  });
});
