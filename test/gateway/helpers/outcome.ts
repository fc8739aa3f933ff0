import { GatewayRefusal } from '../../../src/gateway-client';

/** How a tool call ended, as one word: 'executed', 'replayed' (a stored result), or the refusal code. */
export async function outcomeOf(call: Promise<unknown>): Promise<string> {
  try {
    return ((await call) as { replayed: boolean }).replayed ? 'replayed' : 'executed';
  } catch (err) {
    if (err instanceof GatewayRefusal) return err.code;
    throw err;
  }
}
