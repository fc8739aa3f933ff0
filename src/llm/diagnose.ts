import type OpenAI from 'openai';
import type { ChatCompletion, ChatCompletionMessageParam, ChatCompletionMessageToolCall } from 'openai/resources/chat/completions';
import { LlmRateLimited, LlmTimeout, LlmUnavailable, classifyOpenAiError } from './errors';
import { SYSTEM_PROMPT, incidentMessage, wrapUntrusted } from './prompt';
import { MODEL_TOOLS, isModelTool, modelToolDefinitions } from './tools';
import { refersTo } from '../contract/container';
import type { DiagnosisFailureReason, DiagnosisFindings, DiagnosisToolCall } from '../contract/diagnosis';
import { truncate } from '../contract/text';
import type { ContainerSummary, LogsResult } from '../contract/gateway';
import type { Facts } from '../contract/policy';
import { parseProposal } from './proposal';

/** Read-only tools as the caller provides them (in production: signed gateway calls). */
export interface DiagnoseTools {
  inspect(container: string): Promise<ContainerSummary>;
  logs(container: string, tail: number): Promise<LogsResult>;
}

export interface DiagnoseInput {
  /** Built by `createOpenAiClient` (maxRetries 0, signed fetch). */
  openai: OpenAI;
  model: string;
  facts: Facts;
  /** The incident's container name: the only container the model may look at. */
  container: string;
  /** Its id; the model may also refer to the container by id or a ≥12-char id prefix. */
  containerId?: string;
  /** Model calls allowed, the answer included. */
  maxTurns: number;
  /** Tokens (prompt + completion, summed over calls) after which no further call is made. */
  maxTokens: number;
  tools: DiagnoseTools;
  /** Byte budget of each quoted tool result (default 8 KiB). */
  toolResultBytes?: number;
  /** Largest log tail fetched whatever the model asks (default 200). */
  maxLogTail?: number;
  /** Cancels the in-flight model call (Temporal activity cancellation); the abort is rethrown. */
  signal?: AbortSignal;
}

/** One tool call the model asked for, and what became of it (kept only inside a conversation: `args` is model text). */
interface ConversationCall {
  tool: string;
  /** Parsed arguments, or their text cut to 500 characters when not JSON or longer than that. */
  args: unknown;
  executed: boolean;
  /** Why it was not executed. */
  refusal?: 'unknown_tool' | 'invalid_arguments' | 'out_of_scope' | 'too_many_calls' | 'turn_limit';
  /** The tool ran and failed (e.g. a gateway refusal). */
  error?: string;
}

/** Tool calls kept in the findings (history stays small whatever the model does). */
const MAX_RECORDED_CALLS = 16;

/** Tool calls executed per model turn at most; more are refused (a turn is not a batch job). */
export const MAX_TOOL_CALLS_PER_TURN = 4;

/** Tokens of one call: the server's usage, else a rough estimate (4 chars/token) so a server without usage still hits the budget. */
function tokensOf(completion: ChatCompletion, messages: readonly ChatCompletionMessageParam[]): number {
  const total = completion.usage?.total_tokens;
  if (typeof total === 'number' && Number.isFinite(total) && total >= 0) return total;
  const chars = JSON.stringify(messages).length + JSON.stringify(completion.choices).length;
  return Math.ceil(chars / 4);
}

function sameContainer(requested: string, input: DiagnoseInput): boolean {
  return refersTo(requested, { name: input.container, id: input.containerId ?? '' });
}

/** The container a tool call named, if it named one (never its other arguments: model text stays out of history). */
function namedContainer(args: unknown): string | undefined {
  const c = args && typeof args === 'object' ? (args as { container?: unknown }).container : undefined;
  return typeof c === 'string' ? truncate(c, 128) : undefined;
}

/** What the conversation's tool calls say, in the shape history keeps: targets, never arguments. */
function recordedCalls(calls: readonly ConversationCall[], input: DiagnoseInput): Pick<DiagnosisFindings, 'toolCalls' | 'attemptedTools' | 'otherContainers'> {
  const attempted = new Set<string>();
  const others = new Set<string>();
  for (const c of calls) {
    if (!isModelTool(c.tool)) attempted.add(truncate(c.tool, 64));
    const container = namedContainer(c.args);
    if (container !== undefined && !sameContainer(container, input)) others.add(container);
  }
  const toolCalls = calls.slice(0, MAX_RECORDED_CALLS).map((c): DiagnosisToolCall => {
    const container = namedContainer(c.args);
    return {
      tool: truncate(c.tool, 64),
      executed: c.executed,
      ...(c.refusal ? { refusal: c.refusal } : {}),
      ...(c.error ? { error: truncate(c.error, 200) } : {}),
      ...(container !== undefined ? { container } : {}),
    };
  });
  return { toolCalls, attemptedTools: [...attempted].slice(0, 8), otherContainers: [...others].slice(0, 8) };
}


/**
 * Name and arguments of a call. `args` is the parsed JSON (undefined when it is not JSON);
 * `recorded` is what goes into history, cut so history stays small whatever the model sends.
 */
function describeCall(call: ChatCompletionMessageToolCall): { tool: string; args: unknown; recorded: unknown } {
  if (call.type !== 'function') return { tool: truncate(call.custom.name, 64), args: undefined, recorded: truncate(call.custom.input, 500) };
  const tool = truncate(call.function.name, 64);
  const text = call.function.arguments || '{}';
  let args: unknown;
  try {
    args = JSON.parse(text) as unknown;
  } catch {
    return { tool, args: undefined, recorded: truncate(text, 500) };
  }
  return { tool, args, recorded: text.length > 500 ? truncate(text, 500) : args };
}

/** Runs one tool call if it is allowed; returns the text the model sees and the record for history. */
async function runToolCall(call: ChatCompletionMessageToolCall, index: number, input: DiagnoseInput): Promise<{ content: string; record: ConversationCall }> {
  const refuse = (record: ConversationCall, message: string) => ({ content: JSON.stringify({ error: { code: record.refusal, message } }), record });
  const { tool, args, recorded } = describeCall(call);
  if (call.type !== 'function') return refuse({ tool, args: recorded, executed: false, refusal: 'unknown_tool' }, 'only function tools exist');
  if (args === undefined) return refuse({ tool, args: recorded, executed: false, refusal: 'invalid_arguments' }, 'arguments are not JSON');
  if (index >= MAX_TOOL_CALLS_PER_TURN) {
    return refuse({ tool, args: recorded, executed: false, refusal: 'too_many_calls' }, `at most ${MAX_TOOL_CALLS_PER_TURN} tool calls per turn`);
  }
  if (!isModelTool(tool)) {
    return refuse({ tool, args: recorded, executed: false, refusal: 'unknown_tool' }, `no such tool; the only tools are ${Object.keys(MODEL_TOOLS).join(' and ')}, both read-only`);
  }
  const parsed = MODEL_TOOLS[tool].schema.safeParse(args);
  if (!parsed.success) {
    return refuse({ tool, args: recorded, executed: false, refusal: 'invalid_arguments' }, parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  }
  if (!sameContainer(parsed.data.container, input)) {
    return refuse({ tool, args: recorded, executed: false, refusal: 'out_of_scope' }, `this diagnosis may only look at container "${input.container}"`);
  }
  const bytes = input.toolResultBytes ?? 8 * 1024;
  // The call goes out with the incident's own container name: arguments come from facts, not model text.
  try {
    if (tool === 'inspect_container') {
      const summary = await input.tools.inspect(input.container);
      const block = wrapUntrusted('container-inspect', JSON.stringify(summary, null, 1).split('\n'), { maxBytes: bytes, attributes: { container: input.container } });
      return { content: block.text, record: { tool, args: recorded, executed: true } };
    }
    // Already validated above; parsed again only to get the tool-specific type (with its default tail).
    const { tail: requestedTail } = MODEL_TOOLS.check_container_logs.schema.parse(args);
    const tail = Math.min(requestedTail, input.maxLogTail ?? 200);
    const logs = await input.tools.logs(input.container, tail);
    const block = wrapUntrusted('container-logs', logs.lines, {
      maxBytes: bytes,
      attributes: { container: input.container, tail, gateway_truncated: logs.truncated, redactions: logs.redactions },
    });
    return { content: block.text, record: { tool, args: recorded, executed: true } };
  } catch (err) {
    if (input.signal?.aborted) throw err;
    // A failed read is information for the model, not a reason to abandon the diagnosis.
    const message = truncate(err instanceof Error ? err.message : String(err), 300);
    return { content: JSON.stringify({ error: { code: 'tool_failed', message } }), record: { tool, args: recorded, executed: true, error: message } };
  }
}

/**
 * Asks the model for a proposal about one incident (docs/architecture.md §5). The model may call the two
 * read-only tools, for the incident's container only, within `maxTurns` model calls and
 * `maxTokens`; its final message must be a `Proposal`.
 *
 * Never throws for model misbehaviour (malformed reply, tool spam, budget): that is a result,
 * and the policy decides alone. Throws `LlmRateLimited`, `LlmUnavailable` or `LlmTimeout` for
 * transport failures so the activity can retry; rethrows the caller's abort.
 */
export async function diagnose(input: DiagnoseInput): Promise<DiagnosisFindings> {
  const messages: ChatCompletionMessageParam[] = [
    { role: 'system', content: SYSTEM_PROMPT },
    { role: 'user', content: incidentMessage({ container: input.container, facts: input.facts, maxTurns: input.maxTurns }) },
  ];
  const tools = modelToolDefinitions();
  const toolCalls: ConversationCall[] = [];
  let turns = 0;
  let tokens = 0;
  const fail = (reason: DiagnosisFailureReason, detail: string, stoppedAtTurnLimit = false): DiagnosisFindings => ({
    ok: false,
    reason,
    detail: truncate(detail, 500),
    turns,
    tokens,
    stoppedAtTurnLimit,
    ...recordedCalls(toolCalls, input),
  });

  for (;;) {
    const lastTurn = turns + 1 >= input.maxTurns;
    let completion: ChatCompletion;
    try {
      completion = await input.openai.chat.completions.create(
        {
          model: input.model,
          messages,
          tools,
          // On the last allowed turn the model is told to answer; one that calls tools anyway is cut off below.
          tool_choice: lastTurn ? 'none' : 'auto',
          // The completion may use what is left of the budget and no more.
          max_completion_tokens: Math.max(1, input.maxTokens - tokens),
        },
        { signal: input.signal },
      );
    } catch (err) {
      const classified = classifyOpenAiError(err);
      if (classified === null) throw err;
      if (classified instanceof Error) throw classified;
      return fail('upstream_error', `model endpoint answered ${classified.status}: ${truncate(classified.message, 300)}`);
    }
    turns += 1;
    tokens += tokensOf(completion, messages);

    const message = completion.choices[0]?.message;
    if (!message) return fail('malformed', 'reply has no choices');
    const calls = message.tool_calls ?? [];
    if (calls.length === 0) {
      const parsed = parseProposal(message.content);
      if (parsed.ok) return { ok: true, proposal: parsed.proposal, turns, tokens, stoppedAtTurnLimit: false, ...recordedCalls(toolCalls, input) };
      const detail = completion.choices[0]?.finish_reason === 'length' ? `${parsed.detail} (cut off by the token limit)` : parsed.detail;
      // A reply that is not a valid proposal is asked for again while both budgets allow it.
      if (turns >= input.maxTurns || tokens >= input.maxTokens) return fail('malformed', detail);
      messages.push({ role: 'assistant', content: truncate(message.content ?? '', 2000) });
      messages.push({ role: 'user', content: `That reply is not a valid proposal (${truncate(detail, 300)}). Answer with the JSON object only, in the format the system prompt gives.` });
      continue;
    }
    // The model wants more tools: only if both budgets allow another call afterwards.
    if (turns >= input.maxTurns) {
      for (const call of calls) {
        const { tool, recorded } = describeCall(call);
        toolCalls.push({ tool, args: recorded, executed: false, refusal: 'turn_limit' });
      }
      return fail('turn_limit', `model still calling tools after ${turns} of ${input.maxTurns} turns`, true);
    }
    if (tokens >= input.maxTokens) return fail('token_budget', `${tokens} tokens used of ${input.maxTokens}`);

    messages.push({ role: 'assistant', content: message.content ?? null, tool_calls: calls });
    for (const [index, call] of calls.entries()) {
      const { content, record } = await runToolCall(call, index, input);
      toolCalls.push(record);
      messages.push({ role: 'tool', tool_call_id: call.id, content });
    }
  }
}

/**
 * Turns a final transport error (after the activity's retries) into a result, so the workflow
 * records why the model did not advise and lets the policy decide. Other errors yield null.
 */
export function failureFromError(err: unknown): { reason: 'timeout' | 'rate_limited' | 'upstream_error'; detail: string } | null {
  const reason = err instanceof LlmTimeout ? 'timeout' : err instanceof LlmRateLimited ? 'rate_limited' : err instanceof LlmUnavailable ? 'upstream_error' : null;
  if (reason === null) return null;
  return { reason, detail: truncate((err as Error).message, 300) };
}
