import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { RefusalCode } from '../contract/gateway';

/**
 * What an MCP tool answers (docs/architecture.md §4). A result carries the value as structured
 * content and as JSON text (for clients that read text only). An error is `isError: true` with
 * `{error: {code, message}}`: the gateway's stable refusal code, or one of MCP_ERROR_CODES.
 */

/** The MCP server's own stable codes, beside the gateway's refusal codes. */
export const MCP_ERROR_CODES = ['gateway_unavailable', 'temporal_unavailable', 'incident_not_found', 'not_waiting', 'no_worker', 'internal_error'] as const;
export type McpErrorCode = (typeof MCP_ERROR_CODES)[number] | RefusalCode;

export interface McpToolError {
  error: { code: McpErrorCode; message: string; retryAfterSeconds?: number };
  /** The gateway's request id of a refused call: its audit record. */
  requestId?: string;
}

export function toolResult(value: object): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(value, null, 2) }], structuredContent: value as Record<string, unknown> };
}

export function toolError(err: McpToolError): CallToolResult {
  return { content: [{ type: 'text', text: `${err.error.code}: ${err.error.message}` }], structuredContent: { ...err }, isError: true };
}
