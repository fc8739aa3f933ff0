/**
 * Log lines go to an LLM and into workflow history: strip what could steer a terminal or a
 * model (ANSI escapes, control and bidi characters) and redact what looks like a secret.
 */

const ANSI = /\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])/g;
// C0 controls except tab, DEL, C1 controls, Unicode line/paragraph separators, and invisible
// format characters (bidi, zero-width, soft hyphen, word joiners) that could also split a secret
// so the redaction rules below miss it.
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f-\x9f\u00ad\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g;

export const REDACTED = '[REDACTED]';

/** Each rule replaces the secret part of a match and keeps enough context to read the line. */
const RULES: { re: RegExp; replace: (...m: string[]) => string }[] = [
  // PEM private keys (the header line is all one sees line by line; the body lines follow as base64).
  { re: /-----BEGIN [A-Z ]*PRIVATE KEY-----.*/g, replace: () => `-----BEGIN PRIVATE KEY----- ${REDACTED}` },
  // Authorization headers and bare bearer tokens.
  { re: /\b(authorization|proxy-authorization)(\s*[:=]\s*)(bearer|basic|token|digest)?\s*[^\s"',;]+/gi, replace: (_m, k, sep, scheme) => `${k}${sep}${scheme ? `${scheme} ` : ''}${REDACTED}` },
  { re: /\b(bearer)\s+[A-Za-z0-9._~+/-]+=*/gi, replace: (_m, k) => `${k} ${REDACTED}` },
  // Credentials in URLs: scheme://user:password@host
  { re: /\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@]+:)[^\s@/]+@/gi, replace: (_m, head) => `${head}${REDACTED}@` },
  // key=value / key: value where the key names a secret (password, token, api_key, aws_secret_access_key, …).
  // A quoted value is redacted up to its closing quote, spaces included.
  {
    // `auth` only as the end of a key (X-Auth, basic_auth) and `pass` only as a whole word of it
    // (DB_PASS), so `author:` and `bypass=` are left alone.
    re: /\b([A-Za-z0-9_.-]*(?:passw(?:or)?d|passwd|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|credentials?)[A-Za-z0-9_.-]*|[A-Za-z0-9_.-]*auth|(?:[A-Za-z0-9_.-]*[_.-])?pass)(["']?\s*[:=]\s*)(["']?)(?!\[REDACTED\]|(?:bearer|basic|digest)\s)((?<=")[^"]*|(?<=')[^']*|[^\s"',;&]+)/gi,
    replace: (_m, k, sep, q) => `${k}${sep}${q}${REDACTED}`,
  },
  // Command-line flags: --password hunter2, --token=abc (the `=` form is also caught above).
  { re: /(\s--?(?:password|passwd|pwd|pass|token|secret|api-key|apikey)[= ])(?!\[REDACTED\])(\S+)/gi, replace: (_m, flag) => `${flag}${REDACTED}` },
  // Well-known token shapes, wherever they appear.
  { re: /\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[0-9A-Z]{16}\b/g, replace: () => REDACTED },
  { re: /\bsk-(?:[A-Za-z0-9]+-)*[A-Za-z0-9_-]{16,}/g, replace: () => REDACTED },
  { re: /\bgh[pousr]_[A-Za-z0-9]{30,}\b/g, replace: () => REDACTED },
  { re: /\bxox[abprs]-[A-Za-z0-9-]{10,}/g, replace: () => REDACTED },
  { re: /\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g, replace: () => REDACTED },
];

export function stripControl(line: string): string {
  return line.replace(ANSI, '').replace(CONTROL, '');
}

/** Redact secrets in one line; returns the line and how many redactions were made. */
export function redactSecrets(line: string): { line: string; count: number } {
  let count = 0;
  let out = line;
  for (const rule of RULES) {
    out = out.replace(rule.re, (...m: unknown[]) => {
      const groups = m.slice(0, -2).map((g) => (typeof g === 'string' ? g : ''));
      const replaced = rule.replace(...groups);
      // A match an earlier rule already redacted comes out unchanged and is not counted twice.
      if (replaced !== groups[0]) count++;
      return replaced;
    });
  }
  return { line: out, count };
}

export function sanitizeLine(raw: string): { line: string; redactions: number } {
  const { line, count } = redactSecrets(stripControl(raw));
  return { line, redactions: count };
}
