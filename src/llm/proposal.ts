import { Proposal } from '../contract/diagnosis';

/** Outcome of reading a final message: the proposal, or why it is unusable (for history). */
export type ParsedProposal = { ok: true; proposal: Proposal } | { ok: false; detail: string };

/**
 * Parses the model's final message: a JSON object, optionally inside one ```json fence (many
 * models add one even when told not to). Anything else — prose around the JSON, several
 * objects, a schema violation — is malformed: guessing which part the model "meant" would let
 * stray text decide.
 */
export function parseProposal(text: string | null | undefined): ParsedProposal {
  if (text === null || text === undefined || text.trim() === '') return { ok: false, detail: 'empty reply' };
  const fenced = /^```(?:json)?[ \t]*\r?\n([\s\S]*?)\r?\n?```$/i.exec(text.trim());
  const body = fenced?.[1] ?? text.trim();
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (err) {
    return { ok: false, detail: `reply is not JSON: ${(err as Error).message}` };
  }
  const result = Proposal.safeParse(value);
  if (!result.success) {
    const issues = result.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    return { ok: false, detail: `reply does not match the proposal schema: ${issues.join('; ')}` };
  }
  return { ok: true, proposal: result.data };
}
