#!/usr/bin/env node
// capsule's command line. Output on stdout, diagnostics on stderr; an error
// prints `capsule: CODE: message` and exits non-zero, never with a stack trace.
import { createRequire } from 'node:module';
import { parse } from './args.js';
import { report, usage } from './errors.js';
import { COMMAND_HELP, HELP } from './help.js';
type Command = (a: ReturnType<typeof parse>) => Promise<number>;

// Each command's module is imported when that command runs, not at start: importing
// them all (the runtime, ajv, the worker pool, the authoring tools) cost `capsule --version`
// 2-3x the time of `node -e 0`. The build splits them into chunks of their own.
const COMMANDS: Record<string, () => Promise<Command>> = {
  run: async () => {
    // The worker thread first, booting while the rest of `run` loads (cli/run-worker.ts).
    const worker = (await import('./run-worker.js')).startRunWorker();
    const { runCommand } = await import('./run.js');
    return (a) => runCommand(a, worker);
  },
  list: async () => (await import('./list.js')).listCommand,
  inspect: async () => (await import('./inspect.js')).inspectCommand,
  keygen: async () => (await import('./keygen.js')).keygenCommand,
  sign: async () => (await import('./sign.js')).signCommand,
  verify: async () => (await import('./verify.js')).verifyCommand,
  audit: async () => (await import('./audit.js')).auditCommand,
  doctor: async () => (await import('./doctor.js')).doctorCommand,
  bench: async () => (await import('./bench.js')).benchCommand,
  cache: async () => (await import('./cache.js')).cacheCommand,
  prepare: async () => (await import('./prepare.js')).prepareCommand,
  new: async () => (await import('./authoring.js')).newCommand,
  build: async () => (await import('./authoring.js')).buildCommand,
  test: async () => (await import('./test.js')).testCommand,
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
  const command = Object.hasOwn(COMMANDS, a.command) ? COMMANDS[a.command] : undefined;
  if (!command) throw usage(`unknown command ${JSON.stringify(a.command)}`);
  return (await command())(a);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.exitCode = report(e);
  },
);
