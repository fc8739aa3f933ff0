/**
 * A parser for the Prometheus text exposition format (version 0.0.4), strict enough that a
 * malformed line, a sample of an undeclared family or a family declared twice (what a careless
 * merge of two exporters would produce) fails the scrape instead of being skipped.
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Scrape {
  samples: Sample[];
  /** Family name → type from `# TYPE` lines. */
  types: Map<string, string>;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(,|$)/;
const SUFFIXES = ['_bucket', '_count', '_sum', '_total', '_created', '_info'];

function unescape(v: string): string {
  return v.replace(/\\(.)/g, (_m, c: string) => (c === 'n' ? '\n' : c));
}

function parseLabels(text: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let rest = text;
  while (rest.trim().length > 0) {
    const m = LABEL.exec(rest);
    if (!m) throw new Error(`bad labels in: ${line}`);
    const [whole, key, value] = m as unknown as [string, string, string];
    if (key in labels) throw new Error(`label ${key} twice in: ${line}`);
    labels[key] = unescape(value);
    rest = rest.slice(whole.length);
  }
  return labels;
}

/** As Prometheus reads them (Go's ParseFloat): NaN and Inf in any case (prom-client writes `Nan`). */
function parseValue(v: string, line: string): number {
  const lower = v.toLowerCase();
  if (lower === '+inf' || lower === 'inf') return Infinity;
  if (lower === '-inf') return -Infinity;
  if (lower === 'nan') return NaN;
  const n = Number(v);
  if (v === '' || Number.isNaN(n)) throw new Error(`bad value in: ${line}`);
  return n;
}

function familyOf(name: string, types: Map<string, string>): string | undefined {
  if (types.has(name)) return name;
  for (const s of SUFFIXES) if (name.endsWith(s) && types.has(name.slice(0, -s.length))) return name.slice(0, -s.length);
  return undefined;
}

export function parsePrometheusText(text: string): Scrape {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    if (line.startsWith('#')) {
      const m = /^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/.exec(line);
      if (m) {
        if (types.has(m[1]!)) throw new Error(`family ${m[1]} declared twice`);
        types.set(m[1]!, m[2]!);
      }
      continue;
    }
    const brace = line.indexOf('{');
    let name: string;
    let labels: Record<string, string> = {};
    let rest: string;
    if (brace !== -1 && brace < (line.indexOf(' ') === -1 ? Infinity : line.indexOf(' '))) {
      const close = line.lastIndexOf('}');
      if (close < brace) throw new Error(`unclosed labels in: ${line}`);
      name = line.slice(0, brace);
      labels = parseLabels(line.slice(brace + 1, close), line);
      rest = line.slice(close + 1).trim();
    } else {
      const sp = line.indexOf(' ');
      if (sp === -1) throw new Error(`no value in: ${line}`);
      name = line.slice(0, sp);
      rest = line.slice(sp + 1).trim();
    }
    if (!NAME.test(name)) throw new Error(`bad metric name in: ${line}`);
    const [value, timestamp, extra] = rest.split(/\s+/);
    if (extra !== undefined || (timestamp !== undefined && !/^-?\d+$/.test(timestamp))) throw new Error(`bad sample: ${line}`);
    if (types.size > 0 && familyOf(name, types) === undefined) throw new Error(`sample of an undeclared family: ${line}`);
    samples.push({ name, labels, value: parseValue(value ?? '', line) });
  }
  return { samples, types };
}

/** The sum of the samples named `name` whose labels include `labels` (0 when none). */
export function sampleSum(scrape: Scrape, name: string, labels: Record<string, string> = {}): number {
  return scrape.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((a, s) => a + s.value, 0);
}

/** GET `url` and parse it; fails saying what answered. */
export async function scrape(url: string): Promise<Scrape & { contentType: string | null; text: string }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${url} answered ${res.status}: ${text.slice(0, 300)}`);
  return { ...parsePrometheusText(text), contentType: res.headers.get('content-type'), text };
}
