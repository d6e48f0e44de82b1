// The same case through `capsule run` in its own process, with a per-process
// timeout. Exit 0 is ok; an error must end stderr with one line
// `capsule: CODE: message` and exit 1 or 2 (USAGE). Anything else is classified.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { ERROR_CODES } from '../../dist/index.js';

const LINE = /^capsule: ([A-Z_]+): /;

export function cliArgv(c, dir, { root, fixedPolicyFile }) {
  const inputFile = path.join(dir, 'cli-input.json');
  writeFileSync(inputFile, c.inputText ?? '{}');
  const target = c.target.file ? path.join(dir, c.target.file) : c.target.id;
  const caps = c.caps === 'case' ? path.join(dir, 'caps') : path.join(root, 'capabilities');
  const policy = c.policy === 'case' ? path.join(dir, 'policy.json') : fixedPolicyFile;
  return [path.join(root, 'dist', 'cli.js'), 'run', target, '--capabilities', caps, '--policy', policy, '--input-file', inputFile, '--timeout', String(c.opts.timeoutMs > 0 ? Math.ceil(c.opts.timeoutMs) : 1000), '--memory', '64MiB', '--json'];
}

export function runCli(argv, { timeoutMs, env }) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const p = spawn(process.execPath, argv, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr.on('data', (d) => (stderr.length < 1 << 20 ? (stderr += d) : undefined));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      p.kill('SIGKILL');
    }, timeoutMs);
    p.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve(classifyCli({ code, signal, stderr, timedOut, ms: performance.now() - t0 }));
    });
  });
}

export function classifyCli({ code, signal, stderr, timedOut, ms }) {
  const base = { ms, stderr: stderr.slice(-1500) };
  if (timedOut) return { ...base, class: 'hang', code: 'WATCHDOG', message: `capsule run did not exit in time\n${stderr.slice(-800)}` };
  if (signal) return { ...base, class: 'crash', code: signal, message: stderr.slice(-1500) };
  const anomalies = [];
  if (/panicked at|RUST_BACKTRACE/.test(stderr)) anomalies.push('panic-text');
  if (code === 0) return { ...base, class: 'ok', anomalies };
  const lines = stderr.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const at = lines.findLastIndex((l) => LINE.test(l));
  if (at < 0) return { ...base, class: 'non-capsule', code: `exit ${code}`, message: stderr.slice(-1500), anomalies };
  const errCode = LINE.exec(lines[at])[1];
  // the error must be the last line, one line, without control characters
  if (at !== lines.length - 1) anomalies.push('multi-line-error');
  if (/[\u0000-\u0008\u000b-\u001f\u007f]/.test(lines[at])) anomalies.push('control-chars');
  if (lines[at].length > 4096) anomalies.push('long-error');
  if (!ERROR_CODES.includes(errCode)) return { ...base, class: 'non-capsule', code: errCode, message: lines[at].slice(0, 800), anomalies };
  if (errCode === 'INTERNAL') return { ...base, class: 'internal', code: errCode, message: lines.slice(at).join('\n').slice(0, 800), anomalies };
  if ((errCode === 'USAGE') !== (code === 2)) anomalies.push(`exit-${code}-for-${errCode}`);
  return { ...base, class: 'capsule', code: errCode, message: lines.slice(at).join('\n').slice(0, 800), anomalies };
}
