// wasi:cli/*: arguments and environment come only from the Job; exit unwinds the
// guest with an ExitSignal; there is never a terminal.
import { InputStream, OutputStream, type ByteSink } from './streams.js';

export class ExitSignal {
  constructor(readonly code: number) {}
}

/** A new handle on the one stdin stream (same position), so each get-stdin is a resource of its own. */
class SharedInput extends InputStream {
  constructor(private readonly source: InputStream) {
    super(new Uint8Array(0));
  }
  override read(len: bigint): Uint8Array {
    return this.source.read(len);
  }
}

class TerminalInput {}
class TerminalOutput {}

export interface CliState {
  args: string[];
  env: Record<string, string>;
  stdin: InputStream;
  stdout: ByteSink;
  stderr: ByteSink;
}

export function cliInterfaces(s: CliState): Record<string, object> {
  const none = () => undefined;
  return {
    'wasi:cli/environment': {
      getEnvironment: (): [string, string][] => Object.entries(s.env),
      getArguments: (): string[] => s.args.slice(),
      initialCwd: none,
    },
    'wasi:cli/exit': {
      exit(status: { tag: 'ok' | 'err' }): never {
        throw new ExitSignal(status.tag === 'ok' ? 0 : 1);
      },
      exitWithCode(code: number): never {
        throw new ExitSignal(code);
      },
    },
    // stdin is one stream with one position; stdout/stderr get a new stream object per
    // call (over the same capped sink), charged and released like any resource: the
    // glue makes a new handle each time, and a guest asking in a loop must not grow the host.
    'wasi:cli/stdin': { getStdin: () => new SharedInput(s.stdin) },
    'wasi:cli/stdout': { getStdout: () => new OutputStream(s.stdout) },
    'wasi:cli/stderr': { getStderr: () => new OutputStream(s.stderr) },
    'wasi:cli/terminal-input': { TerminalInput },
    'wasi:cli/terminal-output': { TerminalOutput },
    'wasi:cli/terminal-stdin': { getTerminalStdin: none },
    'wasi:cli/terminal-stdout': { getTerminalStdout: none },
    'wasi:cli/terminal-stderr': { getTerminalStderr: none },
  };
}
