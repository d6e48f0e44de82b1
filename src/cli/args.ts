// Command-line parsing with node:util parseArgs; `--` ends options and what
// follows is handed to a command-world guest as its arguments.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { messageOf } from '../errors.js';
import { usage } from './errors.js';
import { type Permissions, permissionsFromFlags } from '../grants/permissions.js';
import type { PolicyGrant } from '../policy/policy.js';

const OPTIONS = {
  input: { type: 'string' },
  'input-file': { type: 'string' },
  json: { type: 'boolean' },
  policy: { type: 'string' },
  capabilities: { type: 'string', multiple: true },
  timeout: { type: 'string' },
  memory: { type: 'string' },
  tier: { type: 'string' },
  'allow-host': { type: 'string', multiple: true },
  'allow-read': { type: 'string', multiple: true },
  'allow-write': { type: 'string', multiple: true },
  'allow-env': { type: 'string', multiple: true },
  'allow-net': { type: 'string', multiple: true },
  'allow-clocks': { type: 'boolean' },
  'allow-random': { type: 'boolean' },
  audit: { type: 'string' },
  out: { type: 'string' },
  key: { type: 'string' },
  id: { type: 'string' },
  lines: { type: 'string', short: 'n' },
  capability: { type: 'string' },
  principal: { type: 'string' },
  kind: { type: 'string' },
  severity: { type: 'string' },
  since: { type: 'string' },
  until: { type: 'string' },
  tiers: { type: 'string', multiple: true },
  workloads: { type: 'string', multiple: true },
  peers: { type: 'string', multiple: true },
  duration: { type: 'string' },
  quick: { type: 'boolean' },
  rows: { type: 'string', multiple: true },
  rounds: { type: 'string' },
  lang: { type: 'string' },
  dir: { type: 'string' },
  sign: { type: 'string' },
  check: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const;

export interface ParsedArgs {
  command: string | undefined;
  positionals: string[];
  /** Arguments after `--`. */
  rest: string[];
  values: Record<string, string | boolean | string[] | undefined>;
  capabilitiesDirs: string[];
  list(name: string): string[];
  number(name: string): number | undefined;
}

function parseStrict(argv: string[]) {
  try {
    return parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, tokens: true, strict: true });
  } catch (e) {
    throw usage(messageOf(e).split('\n')[0] ?? '');
  }
}

export function parse(argv: string[]): ParsedArgs {
  const parsed = parseStrict(argv);
  const terminator = parsed.tokens.find((t) => t.kind === 'option-terminator');
  const before = terminator ? parsed.tokens.filter((t) => t.index < terminator.index) : parsed.tokens;
  const positionals = before.filter((t) => t.kind === 'positional').map((t) => (t as { value: string }).value);
  const rest = terminator ? argv.slice(terminator.index + 1) : [];
  const values = parsed.values as ParsedArgs['values'];
  const list = (name: string) => {
    const v = values[name];
    return Array.isArray(v) ? v.flatMap((x) => x.split(',')).filter(Boolean) : [];
  };
  return {
    command: positionals[0],
    positionals: positionals.slice(1),
    rest,
    values,
    capabilitiesDirs: list('capabilities').length > 0 ? list('capabilities') : [defaultCapabilitiesDir()],
    list,
    number(name) {
      const v = values[name];
      if (v === undefined) return undefined;
      const n = Number(v);
      if (!Number.isInteger(n) || n <= 0) throw usage(`--${name} ${String(v)}: expected a positive whole number`);
      return n;
    },
  };
}

/** A target naming a file rather than a capability id. */
export function isFileTarget(target: string): boolean {
  return target.endsWith('.wasm') || target.includes('/') || target.includes('\\');
}

/**
 * One grant for this capability made from the --allow-* flags, added to the
 * policy's. Paths are resolved against the current directory here, so that
 * they do not resolve against the policy file's directory.
 */
export function flagGrants(a: ParsedArgs, id: string): PolicyGrant[] {
  const p = flagPermissions(a);
  const g: PolicyGrant = { capabilities: id };
  if (p.host?.length) g.host = p.host;
  if (p.fs) g.fs = p.fs;
  if (p.env?.length) g.env = p.env;
  if (p.net) g.net = p.net;
  if (p.clocks) g.clocks = true;
  if (p.random) g.random = true;
  return Object.keys(g).length === 1 ? [] : [g];
}

/** What the --allow-* flags ask for: for a bare .wasm they are the request as well as the grant. */
export function flagPermissions(a: ParsedArgs): Permissions {
  const flags = { host: a.list('allow-host'), read: a.list('allow-read'), write: a.list('allow-write'), env: a.list('allow-env'), net: a.list('allow-net') };
  const p = permissionsFromFlags(flags, process.cwd());
  if (a.values['allow-clocks'] === true) p.clocks = true;
  if (a.values['allow-random'] === true) p.random = true;
  return p;
}

/**
 * Without --capabilities: ./capabilities, or, where there is none, the catalog
 * installed with capsule (dist/cli.js → <package>/capabilities), so that
 * `npx capsule run demo.echo` works in an app that depends on capsule.
 */
function defaultCapabilitiesDir(): string {
  const local = './capabilities';
  if (existsSync(local)) return local;
  const installed = fileURLToPath(new URL('../capabilities', import.meta.url));
  return existsSync(installed) ? installed : local;
}
