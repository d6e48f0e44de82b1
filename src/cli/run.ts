// `capsule run <id|file.wasm>`: input from --input, --input-file or stdin;
// arguments after `--` go to a command-world guest.
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { CapsuleError, messageOf } from '../errors.js';
import { HARD_LIMITS } from '../policy/decide.js';
import { parseJson } from '../json-text.js';
import { type CommandOutput, Runtime } from '../runtime.js';
import { checkCommandInput, fileCapabilityId } from '../run-input.js';
import type { Tier } from '../policy/tier.js';
import { parseBytes } from './format.js';
import { usage } from './errors.js';
import { printDenials, printGuestLog } from './guest-log.js';
import { SOURCE, seconds, withProgress } from './progress.js';
import type { Denial } from '../sandbox/job.js';
import { flagGrants, flagPermissions, isFileTarget, type ParsedArgs } from './args.js';
import { RUN_POOL } from './run-worker.js';
import type { WorkerRunner } from '../tiers/worker.js';

/** `worker`: the pool main.ts started before loading this module (RUN_POOL); the runtime takes it over. */
export async function runCommand(a: ParsedArgs, worker?: WorkerRunner): Promise<number> {
  const target = a.positionals[0];
  if (!target) {
    await worker?.close();
    throw usage('run needs a capability id or a .wasm file');
  }
  const isFile = isFileTarget(target);
  const id = isFile ? fileCapabilityId(target) : target;
  let rt: Runtime;
  try {
    rt = await Runtime.create(
      {
        capabilitiesDir: a.capabilitiesDirs,
        policy: a.values.policy as string | undefined,
        extraGrants: flagGrants(a, id),
        auditLog: a.values.audit as string | undefined,
        fileRequest: isFile ? flagPermissions(a) : undefined,
        pool: RUN_POOL,
        logger: printGuestLog,
      },
      worker ? { worker } : {},
    );
  } catch (e) {
    // The runtime never took the pool over: its thread ends here.
    await worker?.close();
    throw e;
  }
  try {
    return await loadAndRun(rt, a, target, isFile);
  } catch (e) {
    throw failedRun(e, a, isFile);
  } finally {
    await rt.close();
  }
}

async function loadAndRun(rt: Runtime, a: ParsedArgs, target: string, isFile: boolean): Promise<number> {
  // A first load transpiles the component (seconds for a JavaScript plugin): said on stderr past
  // ~1 s when stderr is a terminal (as git shows progress), so a script reading stderr gets
  // capsule's diagnostics only, however slow the machine.
  const load = isFile ? rt.loadFile(target) : rt.load(target);
  const loaded = process.stderr.isTTY
    ? await withProgress(load, {
        starting: `loading ${target} (a first load transpiles its component; capsule prepare does that ahead of time)`,
        done: (l, ms) => `loaded ${target} in ${seconds(ms)}${l.component ? ` (${SOURCE[l.component.source]})` : ''}`,
      })
    : await load;
  const input = await readInput(a, loaded.manifest.world === 'command' ? loaded.manifest.id : undefined);
  const opts = {
    timeoutMs: a.number('timeout'),
    memoryLimitBytes: a.values.memory === undefined ? undefined : memory(a.values.memory as string),
    tier: a.values.tier as Tier | undefined,
  };
  const { output, stats, denials } = await rt.runLoaded(loaded, input, opts);
  if (a.values.json) {
    printDenials(denials);
    process.stdout.write(`${JSON.stringify({ output, stats, denials }, null, 2)}\n`);
    return 0;
  }
  if (loaded.manifest.world === 'command') {
    // A command's stdout and stderr are its output: passed through byte for byte,
    // as any program's are. capsule's own lines come after them, each on a line
    // of its own (README: Command line, on telling them apart).
    const out = output as CommandOutput;
    process.stdout.write(out.stdout);
    process.stderr.write(out.stderr);
    if (denials.length > 0 && out.stderr !== '' && !out.stderr.endsWith('\n')) process.stderr.write('\n');
    printDenials(denials);
    return out.exitCode;
  }
  printDenials(denials);
  process.stdout.write(`${JSON.stringify(output, null, 2)}\n`);
  return 0;
}

/**
 * A failed call, as the CLI shows it: the denials that may explain it on stderr (as a
 * successful call's are), the error object on stdout with --json, and a guest refused
 * clocks or randomness told how to grant them.
 */
function failedRun(e: unknown, a: ParsedArgs, isFile: boolean): unknown {
  if (!(e instanceof CapsuleError)) return e;
  const denials = e.details?.denials;
  if (Array.isArray(denials)) printDenials(denials as Denial[]);
  let err = e;
  const refused = e.code === 'PERMISSION_DENIED' ? /: (clocks|random) is not granted$/.exec(e.message)?.[1] : undefined;
  if (refused) {
    const how = isFile ? `run it with --allow-${refused}` : `add "${refused}": true to its manifest's permissions (and have the policy grant it)`;
    err = new CapsuleError(e.code, `${e.message}: to grant it, ${how}`, e.details);
  }
  if (a.values.json) process.stdout.write(`${JSON.stringify({ error: err.toData() }, null, 2)}\n`);
  return err;
}

function memory(text: string): number {
  const n = parseBytes(text);
  if (n === undefined) throw usage(`--memory ${text}: expected a size such as 64MiB`);
  return n;
}

/** The run's input; `commandId` is set for a command-world capability (its input is `{ args?, stdin?, env? }`). */
async function readInput(a: ParsedArgs, commandId: string | undefined): Promise<unknown> {
  const given = a.values.input as string | undefined;
  const file = a.values['input-file'] as string | undefined;
  if (given !== undefined && file !== undefined) throw usage('give either --input or --input-file, not both');
  let text: string | undefined = given;
  if (file !== undefined) {
    try {
      text = await readBounded(createReadStream(file), `--input-file ${file}`);
    } catch (e) {
      throw e instanceof CapsuleError ? e : usage(`--input-file ${file}: ${messageOf(e)}`);
    }
  }
  if (commandId !== undefined) {
    const parsed = text === undefined ? null : parseInput(text, '--input');
    // The same rule as the API: null means no input; anything but an object is refused before flags are added to it.
    checkCommandInput(parsed, commandId);
    const input = (parsed ?? {}) as Record<string, unknown>;
    if (a.rest.length > 0) input.args = a.rest;
    if (input.stdin === undefined && text === undefined && !process.stdin.isTTY) input.stdin = await readStdin();
    return input;
  }
  if (text === undefined && !process.stdin.isTTY) text = await readStdin();
  return text === undefined || text.trim() === '' ? {} : parseInput(text, file ? '--input-file' : '--input');
}

function parseInput(text: string, from: string): unknown {
  try {
    return parseJson(text);
  } catch (e) {
    throw usage(`${from} is not JSON: ${messageOf(e)}`);
  }
}

function readStdin(): Promise<string> {
  return readBounded(process.stdin, 'standard input');
}

/**
 * Input text from a file or stdin, read up to the hard input ceiling: `/dev/zero`
 * or an endless pipe is INPUT_TOO_LARGE instead of a read that never ends. A FIFO
 * or `/dev/stdin` stays allowed (process substitution is a normal way to pass input).
 */
async function readBounded(stream: Readable, from: string): Promise<string> {
  const max = HARD_LIMITS.inputBytes;
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    total += (chunk as Buffer).length;
    if (total > max) {
      stream.destroy();
      throw new CapsuleError('INPUT_TOO_LARGE', `${from} is larger than the ${max / (1024 * 1024)} MiB an input may be`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
