// wasi:cli/*: arguments and environment come only from the Job; exit unwinds the
// guest with an ExitSignal; there is never a terminal.
import { InputStream, OutputStream } from './streams.js';

export class ExitSignal {
  constructor(readonly code: number) {}
}

class TerminalInput {}
class TerminalOutput {}

export interface CliState {
  args: string[];
  env: Record<string, string>;
  stdin: InputStream;
  stdout: OutputStream;
  stderr: OutputStream;
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
    'wasi:cli/stdin': { getStdin: () => s.stdin },
    'wasi:cli/stdout': { getStdout: () => s.stdout },
    'wasi:cli/stderr': { getStderr: () => s.stderr },
    'wasi:cli/terminal-input': { TerminalInput },
    'wasi:cli/terminal-output': { TerminalOutput },
    'wasi:cli/terminal-stdin': { getTerminalStdin: none },
    'wasi:cli/terminal-stdout': { getTerminalStdout: none },
    'wasi:cli/terminal-stderr': { getTerminalStderr: none },
  };
}
