#!/usr/bin/env node
// capsule's command line. Output on stdout, diagnostics on stderr; an error
// prints `capsule: CODE: message` and exits non-zero, never with a stack trace.
import { createRequire } from 'node:module';
import { parse } from './args.js';
import { report, usage } from './errors.js';
import { COMMAND_HELP, HELP } from './help.js';
import { auditCommand } from './audit.js';
import { buildCommand, newCommand } from './authoring.js';
import { doctorCommand } from './doctor.js';
import { benchCommand } from './bench.js';
import { cacheCommand } from './cache.js';
import { inspectCommand } from './inspect.js';
import { keygenCommand } from './keygen.js';
import { listCommand } from './list.js';
import { prepareCommand } from './prepare.js';
import { runCommand } from './run.js';
import { signCommand } from './sign.js';
import { testCommand } from './test.js';
import { verifyCommand } from './verify.js';

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
  prepare: prepareCommand,
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
  // `capsule run --help` and `capsule help run`: that command's flags.
  const about = a.command === 'help' ? a.positionals[0] : a.values.help ? a.command : undefined;
  if (about !== undefined && COMMAND_HELP[about] !== undefined) {
    process.stdout.write(COMMAND_HELP[about]);
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
