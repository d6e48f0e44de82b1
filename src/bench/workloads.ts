// The workloads `capsule bench` runs, each with a check of its output so a
// broken run can never pass for a fast one.
import { isDeepStrictEqual } from 'node:util';

export interface Workload {
  name: string;
  description: string;
  capability: string;
  input: () => unknown;
  /** Throws when a call's output is wrong. */
  check: (output: unknown) => void;
  /** Same function as a core module for the direct in-thread baseline (taken from this capability's component). */
  direct: boolean;
  /** Bare worker postMessage echo of the same value. */
  postMessage: boolean;
  /** The equivalent Extism plugin (fixtures/build/<name>.wasm). */
  extism?: string;
}

const SMALL = { hello: 'world', n: [1, 2, 3], ok: true };
const MIB = 1 << 20;
let big: string | undefined;
const bigString = () => (big ??= 'x'.repeat(MIB));

const MARKDOWN = '# Title\n\nSome *emphasis*, `code` and a [link](https://example.com).\n\n- one\n- two\n';
const WC_STDIN = 'the quick brown fox\njumps over\nthe lazy dog\n';

function expectEqual(expected: unknown) {
  return (output: unknown) => {
    if (!isDeepStrictEqual(output, expected)) throw new Error(`unexpected output ${JSON.stringify(output).slice(0, 80)}`);
  };
}

export const WORKLOADS: Workload[] = [
  {
    name: 'echo',
    description: "demo.echo's component (as bench.echo, 30 s limit) on a small JSON value: capsule's overhead",
    capability: 'bench.echo',
    input: () => SMALL,
    check: expectEqual(SMALL),
    direct: true,
    postMessage: true,
    extism: 'bench-extism-echo',
  },
  {
    name: 'echo-1mib',
    description: "demo.echo's component (as bench.echo) on a 1 MiB string, in and out",
    capability: 'bench.echo',
    input: bigString,
    check: (o) => {
      if (typeof o !== 'string' || o.length !== MIB) throw new Error('1 MiB echo came back wrong');
    },
    direct: true,
    postMessage: true,
    extism: 'bench-extism-echo',
  },
  {
    name: 'fib',
    description: 'bench-fib: fib(27) by naive recursion in WAT (CPU-bound)',
    capability: 'bench.fib',
    input: () => null,
    check: expectEqual(196418),
    direct: true,
    postMessage: false,
    extism: 'bench-extism-fib',
  },
  {
    name: 'markdown',
    description: 'demo.markdown.render: a JavaScript plugin (componentize-js), logs via capsule:host/log',
    capability: 'demo.markdown.render',
    input: () => ({ markdown: MARKDOWN }),
    check: (o) => {
      const html = (o as { html?: unknown } | null)?.html;
      if (typeof html !== 'string' || !html.includes('<h1>Title</h1>')) throw new Error('markdown did not render');
    },
    direct: false,
    postMessage: false,
  },
  {
    name: 'wc',
    description: 'demo.text.wc: a wasi:cli/command program in C, stdin in, stdout out',
    capability: 'demo.text.wc',
    input: () => ({ args: ['--json'], stdin: WC_STDIN }),
    check: (o) => {
      const out = o as { exitCode?: number; stdout?: string };
      const counts = out.exitCode === 0 && typeof out.stdout === 'string' ? (JSON.parse(out.stdout) as unknown) : null;
      expectEqual({ lines: 3, words: 9, bytes: WC_STDIN.length })(counts);
    },
    direct: false,
    postMessage: false,
  },
];

export const WORKLOAD_NAMES = WORKLOADS.map((w) => w.name);
