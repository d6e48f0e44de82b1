#!/usr/bin/env node
// capsule's command line. Output on stdout, diagnostics on stderr; an error
// prints `capsule: CODE: message` and exits non-zero, never with a stack trace.
import { createRequire } from 'node:module';
import { parse } from './args.js';
import { report, usage } from './errors.js';
import { auditCommand } from './audit.js';
import { buildCommand, newCommand } from './authoring.js';
import { doctorCommand } from './doctor.js';
import { benchCommand } from './bench.js';
import { cacheCommand } from './cache.js';
import { inspectCommand } from './inspect.js';
import { keygenCommand } from './keygen.js';
import { listCommand } from './list.js';
import { runCommand } from './run.js';
import { signCommand } from './sign.js';
import { testCommand } from './test.js';
import { verifyCommand } from './verify.js';

const HELP = `capsule: run untrusted WebAssembly components under deny-by-default grants

usage:
  capsule run <id|file.wasm> [--input JSON | --input-file F | stdin] [--json]
              [--allow-host IFACE] [--timeout MS] [--memory 64MiB] [--tier T]
              [--policy F] [--capabilities DIR] [--audit F] [-- ARGS for a command]
  capsule list [--json]                 capabilities, what they request, their tier
  capsule inspect <id|file> [--json]    manifest, imports/exports, requested vs granted, tier
  capsule doctor [--json]               Node, each tier and runner: usable here, and why not
  capsule keygen [--out DIR] [--id NAME]
                                        new Ed25519 key: DIR/<id>.key (0600); prints the
                                        trustedKeys entry for the policy
  capsule sign <dir> --key F [--id NAME]
                                        pin digest and sign <dir>/capability.json
  capsule verify <dir> [--policy F]     check provider, digest and signature; exit 1 if bad
  capsule audit verify [FILE]           check the audit log's hash chain; names the first broken line
  capsule audit tail [FILE] [-n N] [--json]
                                        the last N lines (default 20), readable
  capsule cache [info] [--json]         the transpile cache: path, entries, bytes (and its cap)
  capsule cache clean                   remove every cache entry
  capsule bench [--tiers inline,worker,process,vm] [--workloads echo,echo-1mib,fib,markdown,wc,echo-audit]
                [--peers extism|none] [--duration S] [--quick] [--out DIR] [--json]
                                        what each tier costs, beside baselines and Extism
  capsule help | --version

options:
  --capabilities DIR   where capabilities live (repeatable; default ./capabilities)
  --policy F           policy file granting interfaces, limits and tiers
  --audit F            append an audit line per decision to F (default $CAPSULE_AUDIT_LOG;
                       audit verify/tail default to it, else ./capsule-audit.jsonl)
`;

const COMMANDS: Record<string, (a: ReturnType<typeof parse>) => Promise<number>> = {
  run: runCommand,
  list: listCommand,
  inspect: inspectCommand,
  keygen: keygenCommand,
  sign: signCommand,
  verify: verifyCommand,
  audit: auditCommand,
  doctor: doctorCommand,
  bench: benchCommand,
  cache: cacheCommand,
  new: newCommand,
  build: buildCommand,
  test: testCommand,
};

async function main(argv: string[]): Promise<number> {
  const a = parse(argv);
  if (a.values.version) {
    const pkg = createRequire(import.meta.url)('../package.json') as { version: string };
    process.stdout.write(`capsule ${pkg.version}\n`);
    return 0;
  }
  if (a.values.help || a.command === undefined || a.command === 'help') {
    process.stdout.write(HELP);
    return a.command === undefined && !a.values.help ? 2 : 0;
  }
  const command = COMMANDS[a.command];
  if (!command) throw usage(`unknown command ${JSON.stringify(a.command)}`);
  return command(a);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.exitCode = report(e);
  },
);
