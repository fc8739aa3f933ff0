import type { ReferenceRecord } from '../contract/audit-record';
import { MUTATING_TOOLS, TOOL_ARGS } from '../contract/gateway';
import type { Facts, PolicyConfig } from '../contract/policy';
import { truncate } from '../contract/text';
import type { CallEvidence, Evidence, ObservedState } from './evidence';
import { blankFacts, stateAfterFirstMutation } from './evidence';

/**
 * The reference system's records (docs/architecture.md §6, "the analyzer"): its facts come from
 * the alert, its calls from the decision chain's text, because that is all it keeps. A tool ran
 * when a turn says `Tool: <name>` followed by its `Result:`; the `call_tool("<name>", …)` just
 * before it says which container and arguments it was asked with. The role labels are not read
 * (they are unreliable), nor is the agent's `resolved` flag.
 */

/** The memory limit assumed when the record holds none: only the rule depends on it, never the verdict on an amount. */
const NOMINAL_LIMIT = 256 * 1024 ** 2;

/** Tools that only read: the gateway's own non-mutating tools, and the reference's get_/list_/check_/inspect_ names. */
function isReadOnly(tool: string): boolean {
  if (tool in TOOL_ARGS) return !MUTATING_TOOLS.has(tool as keyof typeof TOOL_ARGS);
  return /^(get|list|check|inspect|describe)_/.test(tool);
}

/** The failure the alert states: OOM (or exit code 137), crash loop, unhealthy, or an exit with its code. */
export function referenceFacts(record: ReferenceRecord, config: PolicyConfig): { facts: Facts; unknown: string[] } {
  const text = `${record.alert.status} ${record.alert.description}`;
  const base = blankFacts({ memoryBytes: NOMINAL_LIMIT });
  const unknown = ['opted in (the reference watched the container)', 'no earlier OOM incidents', 'no operator stop'];
  const code = /(?:exit(?:ed)?|error|status)\s+(?:with\s+)?(?:error\s+)?code\s+(\d+)/i.exec(text);
  if (/oomkilled|out of memory|\boom\b/i.test(text) || code?.[1] === '137') {
    unknown.push(`memory limit (assumed bounded: ${NOMINAL_LIMIT} bytes, so the amount asked for is not checked)`);
    return { facts: { ...base, oomKilled: true, exitCode: 137 }, unknown };
  }
  if (/crash\s*loop/i.test(text)) return { facts: { ...base, restarting: true, deathsInWindow: config.crashLoopDeaths, exitCode: code ? Number(code[1]) : 1 }, unknown };
  if (/unhealthy/i.test(text)) return { facts: { ...base, running: true, health: 'unhealthy' }, unknown };
  if (/exit/i.test(text)) {
    if (!code) unknown.push('exit code (assumed 1: the alert names none)');
    return { facts: { ...base, exitCode: code ? Number(code[1]) : 1 }, unknown };
  }
  return { facts: base, unknown: [...unknown, 'the failure (the alert names none the policy knows)'] };
}

/** `key="value"` pairs of a `call_tool(…)`. */
function parseArgs(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/(\w+)\s*=\s*"([^"]*)"/g)) if (m[1] !== undefined && m[2] !== undefined) out[m[1]] = m[2];
  return out;
}

/** `200m`, `1g`, `512MiB`, or bytes. */
function parseMemory(value: string | undefined): number | null {
  const m = value === undefined ? null : /^\s*(\d+(?:\.\d+)?)\s*([kmg]?)i?b?\s*$/i.exec(value);
  if (!m) return null;
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[(m[2] ?? '').toLowerCase()] ?? 1;
  return Math.floor(Number(m[1]) * unit);
}

function stateFrom(result: string): ObservedState | null {
  const m = /New status:\s*(\w+)/i.exec(result) ?? /Container Status:\s*(\w+)/i.exec(result);
  if (!m?.[1]) return null;
  const status = m[1].toLowerCase();
  return { status, running: status === 'running', health: null };
}

interface Request {
  tool: string;
  args: Record<string, string>;
}

/**
 * Calls in the order they ran. An alert quoted in a turn (`ALERT: …`) only tells the agent how
 * to call, so its `call_tool` is not a request; but it names the container the agent turns to
 * next, so a `Tool:` with no request before it is taken as for the latest alert's container.
 */
export function referenceCalls(record: ReferenceRecord): CallEvidence[] {
  const calls: CallEvidence[] = [];
  const pending: Request[] = [];
  let alertContainer = record.alert.container_id;
  const push = (r: Request, ok: boolean | null, result: string | null) => {
    const error = ok === false && result ? truncate(result.split('\n')[0] ?? result, 200) : null;
    calls.push({
      tool: r.tool,
      mutating: !isReadOnly(r.tool),
      container: r.args.container_id ?? r.args.container ?? alertContainer,
      args: r.args,
      ok,
      approvedBy: null,
      memoryBytes: r.tool === 'update_container_resources' ? parseMemory(r.args.memory_limit ?? r.args.memory) : null,
      after: result ? stateFrom(result) : null,
      error,
    });
  };
  for (const turn of record.decision_chain) {
    const isAlert = /^\s*ALERT:/.test(turn.content);
    const named = isAlert ? /Container ID\/Name:\s*(\S+)/.exec(turn.content)?.[1] : undefined;
    if (named) alertContainer = named;
    const lines = turn.content.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i] ?? '';
      const ran = /^Tool:\s*(\w+)/.exec(line);
      if (ran?.[1]) {
        const tool = ran[1];
        // The output follows `Result:`, on the same line or a later one.
        const rest = [line.slice(ran[0].length), ...lines.slice(i + 1)].join('\n');
        const result = /Result:\s*([\s\S]*)$/.exec(rest)?.[1] ?? rest;
        const at = pending.findIndex((p) => p.tool === tool);
        const req = at >= 0 ? (pending.splice(at, 1)[0] as Request) : { tool, args: {} };
        push(req, !/^\s*Error\b/i.test(result), result);
        break; // The rest of the turn is that tool's output.
      }
      if (isAlert) continue;
      for (const m of line.matchAll(/call_tool\(\s*"(\w+)"([^)]*)\)/g)) if (m[1]) pending.push({ tool: m[1], args: parseArgs(m[2] ?? '') });
    }
  }
  for (const p of pending) push(p, null, null);
  return calls;
}

export function referenceEvidence(record: ReferenceRecord, config: PolicyConfig): Evidence {
  const { facts, unknown } = referenceFacts(record, config);
  const calls = referenceCalls(record);
  const container = record.alert.container_id;
  const notes = calls
    .filter((c) => !c.mutating && c.container !== null && c.container !== container)
    .map((c) => `read-only ${c.tool} for another container (${c.container}): no effect, but outside this incident`);
  return {
    id: record.incident_id,
    format: 'reference',
    containerRefs: [container],
    dependentRefs: [],
    facts,
    unknownFacts: unknown,
    memoryKnown: false,
    policy: config,
    weighedProposal: null,
    calls,
    finalState: stateAfterFirstMutation(calls),
    outcome: null,
    recordedRule: null,
    notes: [...new Set(notes)],
  };
}
