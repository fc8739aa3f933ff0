import type { ChatCompletionFunctionTool } from 'openai/resources/chat/completions';
import { z } from 'zod';
import { CheckContainerLogsArgs, InspectContainerArgs } from '../contract/gateway';

/**
 * The only tools a model is ever offered: the gateway's two read-only tools, with the same zod
 * schemas the gateway validates. Mutating tools are not listed, so a model cannot even name one
 * in a well-formed call (and a call naming one anyway is refused by `diagnose`).
 */
export const MODEL_TOOLS = {
  inspect_container: {
    schema: InspectContainerArgs,
    description: 'Read-only. Docker state of the incident\'s container: status, exit code, OOM flag, health, restart count, memory limits, labels.',
  },
  check_container_logs: {
    schema: CheckContainerLogsArgs,
    description: 'Read-only. The last `tail` log lines of the incident\'s container, already redacted and quoted as untrusted data.',
  },
} as const;
export type ModelToolName = keyof typeof MODEL_TOOLS;

/** Whether `name` is one of the two tools a model is offered. */
export function isModelTool(name: string): name is ModelToolName {
  return Object.prototype.hasOwnProperty.call(MODEL_TOOLS, name);
}

/** The tools as `openai` function tools; parameters are generated from the zod schemas. */
export function modelToolDefinitions(): ChatCompletionFunctionTool[] {
  return (Object.keys(MODEL_TOOLS) as ModelToolName[]).map((name) => {
    const { $schema: _ignored, ...parameters } = z.toJSONSchema(MODEL_TOOLS[name].schema, { io: 'input' }) as Record<string, unknown>;
    return { type: 'function', function: { name, description: MODEL_TOOLS[name].description, parameters } };
  });
}
