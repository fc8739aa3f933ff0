import type { AgentCredentials } from '../../../src/signing';
import { signRequest } from '../../../src/signing';
import type { RefusalBody } from '../../../src/contract/gateway';

export interface RawOptions {
  /** What is signed; `send*` override what is actually sent (tampering). */
  method?: string;
  path: string;
  body?: string;
  timestamp?: number;
  nonce?: string;
  idempotencyKey?: string;
  sendMethod?: string;
  sendPath?: string;
  sendBody?: string;
  /** Sign with this secret instead of the credential's (forgery). */
  secret?: string;
  keyId?: string;
  /** Header edits after signing: a value replaces, null removes. */
  headers?: Record<string, string | null>;
}

export interface RawResponse {
  status: number;
  headers: Headers;
  json: unknown;
  /** For refusals. */
  code: string | undefined;
  requestId: string | undefined;
}

/** Sign a request by hand, optionally tamper with it, send it with fetch, parse the answer. */
export async function rawCall(baseUrl: string, cred: AgentCredentials, o: RawOptions): Promise<RawResponse> {
  const method = o.method ?? 'POST';
  const body = o.body ?? '';
  const signed = signRequest(Buffer.from(o.secret ?? cred.secret, 'hex'), {
    method,
    path: o.path,
    keyId: o.keyId ?? cred.keyId,
    body,
    idempotencyKey: o.idempotencyKey,
    ...(o.timestamp !== undefined ? { timestamp: o.timestamp } : {}),
    ...(o.nonce !== undefined ? { nonce: o.nonce } : {}),
  });
  const headers: Record<string, string> = { 'content-type': 'application/json', ...signed };
  for (const [k, v] of Object.entries(o.headers ?? {})) {
    if (v === null) delete headers[k];
    else headers[k] = v;
  }
  const sendMethod = o.sendMethod ?? method;
  const res = await fetch(baseUrl + (o.sendPath ?? o.path), {
    method: sendMethod,
    headers,
    body: sendMethod === 'GET' || sendMethod === 'HEAD' ? undefined : (o.sendBody ?? body),
  });
  return parse(res);
}

export async function parse(res: Response): Promise<RawResponse> {
  const text = await res.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  const refusal = json as Partial<RefusalBody> | null;
  return {
    status: res.status,
    headers: res.headers,
    json,
    code: refusal?.error?.code,
    requestId: (json as { requestId?: string } | null)?.requestId,
  };
}

/** `{ args, workflowId? }` as the client sends it. */
export function toolBody(args: unknown, workflowId?: string): string {
  return JSON.stringify({ args, ...(workflowId ? { workflowId } : {}) });
}
