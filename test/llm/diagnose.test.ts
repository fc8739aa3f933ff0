import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ScriptedLlm, ScriptStep } from '../helpers/scripted-llm';
import { CONTAINER, CONTAINER_ID, GOOD_PROPOSAL, fakeTools, input, scriptedServers } from './fixtures';
import type { Proposal } from '../../src/contract/diagnosis';
import { diagnose, MODEL_TOOLS, PLACEHOLDER_API_KEY } from '../../src/llm';

const scripted = scriptedServers(after);

/** The JSON error bodies dockmedic sent back to the model as tool results, in order. */
function toolErrorCodes(llm: ScriptedLlm, requestIndex: number): Array<string | undefined> {
  const messages = llm.completions()[requestIndex]?.body?.messages ?? [];
  return messages
    .filter((m) => m.role === 'tool')
    .map((m) => {
      try {
        return (JSON.parse(m.content ?? '') as { error?: { code?: string } }).error?.code;
      } catch {
        return undefined;
      }
    });
}

void describe('diagnose: a well-behaved model', () => {
  void it('reads the logs, then returns its validated proposal', async () => {
    const llm = await scripted([{ toolCall: { name: 'check_container_logs', args: { container: CONTAINER, tail: 50 } } }, { reply: GOOD_PROPOSAL }]);
    const tools = fakeTools();
    const result = await diagnose(input(llm.url, tools));

    assert.equal(result.ok, true);
    assert.ok(result.ok);
    const proposal: Proposal = result.proposal; // the result fits the workflow's type as-is
    assert.deepEqual(proposal, GOOD_PROPOSAL);
    assert.equal(result.turns, 2);
    assert.ok(result.tokens > 0);
    assert.deepEqual(result.toolCalls, [{ tool: 'check_container_logs', executed: true, container: CONTAINER }]);
    assert.deepEqual(tools.calls, [{ tool: 'logs', container: CONTAINER, tail: 50 }]);

    const [first] = llm.completions();
    assert.equal(llm.completions().length, 2);
    // Only the read-only tools are offered; the placeholder key is what leaves the worker.
    assert.deepEqual(first?.body?.tools?.map((t) => t.function.name).sort(), Object.keys(MODEL_TOOLS).sort());
    assert.equal(first?.headers.authorization, `Bearer ${PLACEHOLDER_API_KEY}`);
    assert.equal(first?.body?.model, 'scripted-model');
  });

  void it('accepts a reply inside a ```json fence', async () => {
    const llm = await scripted([{ raw: '```json\n' + JSON.stringify(GOOD_PROPOSAL, null, 2) + '\n```' }]);
    const result = await diagnose(input(llm.url, fakeTools()));
    assert.ok(result.ok);
    assert.deepEqual(result.proposal, GOOD_PROPOSAL);
    assert.equal(result.turns, 1);
  });

  void it('drops keys outside the schema (a container or a size the model slipped in)', async () => {
    const llm = await scripted([{ reply: { ...GOOD_PROPOSAL, container: 'db', memoryBytes: 107374182400 } }]);
    const result = await diagnose(input(llm.url, fakeTools()));
    assert.ok(result.ok);
    assert.deepEqual(Object.keys(result.proposal).sort(), Object.keys(GOOD_PROPOSAL).sort());
  });

  void it('caps the log tail whatever the model asks', async () => {
    const llm = await scripted([{ toolCall: { name: 'check_container_logs', args: { container: CONTAINER, tail: 10_000 } } }, { reply: GOOD_PROPOSAL }]);
    const tools = fakeTools();
    await diagnose(input(llm.url, tools, { maxLogTail: 40 }));
    assert.deepEqual(tools.calls, [{ tool: 'logs', container: CONTAINER, tail: 40 }]);
  });
});

void describe('diagnose: model misbehaviour is a result, never a throw', () => {
  const malformed: Array<[string, ScriptStep]> = [
    ['not JSON', { raw: 'I think you should restart it.' }],
    ['prose around JSON', { raw: `Sure! ${JSON.stringify(GOOD_PROPOSAL)}` }],
    ['an action outside the enum', { reply: { ...GOOD_PROPOSAL, proposedAction: 'delete_container' } }],
    ['confidence above 1', { reply: { ...GOOD_PROPOSAL, confidence: 5 } }],
    ['too much evidence', { reply: { ...GOOD_PROPOSAL, evidence: Array.from({ length: 11 }, () => 'x') } }],
    ['an overlong rationale', { reply: { ...GOOD_PROPOSAL, rationale: 'x'.repeat(2001) } }],
    ['an empty reply', { raw: '' }],
  ];
  for (const [name, step] of malformed) {
    void it(`${name}, every time → asked again within the turn budget, then malformed`, async () => {
      const llm = await scripted([step, step, step]);
      const result = await diagnose(input(llm.url, fakeTools(), { maxTurns: 3 }));
      assert.equal(result.ok, false);
      assert.ok(!result.ok);
      assert.equal(result.reason, 'malformed');
      assert.equal(result.turns, 3);
      assert.equal(llm.completions().length, 3);
    });
  }

  void it('a malformed reply followed by a valid one → the valid proposal, after one re-ask', async () => {
    const llm = await scripted([{ raw: 'I think you should restart it.' }, { reply: GOOD_PROPOSAL }]);
    const result = await diagnose(input(llm.url, fakeTools(), { maxTurns: 3 }));
    assert.ok(result.ok);
    assert.equal(result.proposal.proposedAction, GOOD_PROPOSAL.proposedAction);
    assert.equal(result.turns, 2);
    const [first, second] = llm.completions().map((r) => r.body?.messages ?? []);
    assert.equal((second?.length ?? 0) - (first?.length ?? 0), 2, 'the bad reply and a correction were added');
    assert.equal(second?.at(-1)?.role, 'user');
  });

  void it('a model that keeps calling tools is stopped at exactly maxTurns model calls', async () => {
    const llm = await scripted(() => ({ toolCall: { name: 'inspect_container', args: { container: CONTAINER } } }));
    const tools = fakeTools();
    const result = await diagnose(input(llm.url, tools, { maxTurns: 3 }));

    assert.ok(!result.ok);
    assert.equal(result.reason, 'turn_limit');
    assert.equal(result.stoppedAtTurnLimit, true);
    assert.equal(result.turns, 3);
    assert.equal(llm.completions().length, 3);
    // Tools ran after turns 1 and 2 only; the third turn's calls were cut off, not executed.
    assert.equal(tools.calls.length, 2);
    assert.deepEqual(result.toolCalls.map((c) => c.executed), [true, true, false]);
    // The last allowed call told the model to answer instead of calling tools.
    assert.deepEqual(llm.completions().map((r) => r.body?.tool_choice), ['auto', 'auto', 'none']);
  });

  void it('stops when the token budget is spent', async () => {
    const llm = await scripted(() => ({ toolCall: { name: 'inspect_container', args: { container: CONTAINER } }, usage: { prompt_tokens: 900, completion_tokens: 200 } }));
    const tools = fakeTools();
    const result = await diagnose(input(llm.url, tools, { maxTurns: 10, maxTokens: 2_000 }));

    assert.ok(!result.ok);
    assert.equal(result.reason, 'token_budget');
    assert.equal(result.turns, 2);
    assert.equal(result.tokens, 2_200);
    assert.equal(tools.calls.length, 1);
    // Each call may spend only what is left of the budget.
    assert.deepEqual(llm.completions().map((r) => r.body?.max_completion_tokens), [2_000, 900]);
  });

  void it('counts tokens even when the server reports no usage', async () => {
    const llm = await scripted(() => ({ toolCall: { name: 'inspect_container', args: { container: CONTAINER } }, usage: null }));
    const result = await diagnose(input(llm.url, fakeTools(), { maxTurns: 50, maxTokens: 3_000 }));
    assert.ok(!result.ok);
    assert.equal(result.reason, 'token_budget');
    assert.ok(result.turns < 50);
  });
});

void describe('diagnose: tool calls outside the incident', () => {
  void it('a call for another container is answered with an error and never executed', async () => {
    const llm = await scripted([
      {
        toolCall: [
          { name: 'inspect_container', args: { container: 'db' } },
          { name: 'check_container_logs', args: { container: 'payments', tail: 10 } },
        ],
      },
      { reply: GOOD_PROPOSAL },
    ]);
    const tools = fakeTools();
    const result = await diagnose(input(llm.url, tools));

    assert.ok(result.ok);
    assert.deepEqual(tools.calls, []);
    assert.deepEqual(result.toolCalls.map((c) => [c.tool, c.executed, c.refusal]), [
      ['inspect_container', false, 'out_of_scope'],
      ['check_container_logs', false, 'out_of_scope'],
    ]);
    assert.deepEqual(toolErrorCodes(llm, 1), ['out_of_scope', 'out_of_scope']);
  });

  void it('mutating, invented and malformed calls are refused and never executed', async () => {
    const llm = await scripted([
      {
        toolCall: [
          { name: 'restart_container', args: { container: CONTAINER } },
          { name: 'update_container_resources', args: { container: CONTAINER, memoryBytes: 107374182400 } },
          { name: 'inspect_container', args: { container: CONTAINER, privileged: true } },
          { name: 'check_container_logs', args: { container: '../../etc/passwd' } },
        ],
      },
      { reply: GOOD_PROPOSAL },
    ]);
    const tools = fakeTools();
    const result = await diagnose(input(llm.url, tools));

    assert.ok(result.ok);
    assert.deepEqual(tools.calls, []);
    assert.deepEqual(result.toolCalls.map((c) => c.refusal), ['unknown_tool', 'unknown_tool', 'invalid_arguments', 'invalid_arguments']);
    assert.deepEqual(toolErrorCodes(llm, 1), ['unknown_tool', 'unknown_tool', 'invalid_arguments', 'invalid_arguments']);
  });

  void it('the incident container may be named by id prefix; the call goes out with its name', async () => {
    const llm = await scripted([{ toolCall: { name: 'inspect_container', args: { container: CONTAINER_ID.slice(0, 12) } } }, { reply: GOOD_PROPOSAL }]);
    const tools = fakeTools();
    await diagnose(input(llm.url, tools));
    assert.deepEqual(tools.calls, [{ tool: 'inspect', container: CONTAINER }]);
  });

  void it('a failing read is reported to the model and the diagnosis goes on', async () => {
    const llm = await scripted([{ toolCall: { name: 'check_container_logs', args: { container: CONTAINER } } }, { reply: GOOD_PROPOSAL }]);
    const tools = fakeTools();
    tools.logs = async () => {
      throw new Error('container_not_found: gone');
    };
    const result = await diagnose(input(llm.url, tools));
    assert.ok(result.ok);
    assert.equal(result.toolCalls[0]?.error, 'container_not_found: gone');
    assert.deepEqual(toolErrorCodes(llm, 1), ['tool_failed']);
  });

  void it('oversized arguments are validated in full but recorded cut', async () => {
    const llm = await scripted([{ toolCall: { name: 'inspect_container', args: { container: CONTAINER, junk: 'x'.repeat(5_000) } } }, { reply: GOOD_PROPOSAL }]);
    const tools = fakeTools();
    const result = await diagnose(input(llm.url, tools));
    assert.ok(result.ok);
    assert.deepEqual(tools.calls, []);
    assert.equal(result.toolCalls[0]?.refusal, 'invalid_arguments');
    assert.ok(JSON.stringify(result.toolCalls).length < 1_000);
  });

  void it('more tool calls in one turn than allowed are refused', async () => {
    const many = Array.from({ length: 6 }, () => ({ name: 'inspect_container', args: { container: CONTAINER } }));
    const llm = await scripted([{ toolCall: many }, { reply: GOOD_PROPOSAL }]);
    const tools = fakeTools();
    const result = await diagnose(input(llm.url, tools));
    assert.ok(result.ok);
    assert.equal(tools.calls.length, 4);
    assert.deepEqual(result.toolCalls.filter((c) => c.refusal === 'too_many_calls').length, 2);
  });
});
