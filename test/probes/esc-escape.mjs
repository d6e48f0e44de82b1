// Run by test/process-tier.test.ts inside the process tier's sandbox (the same
// command line as a real job): tries to leave it and prints what worked as JSON.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { Worker } from 'node:worker_threads';

const attempt = (fn) => {
  try {
    fn();
    return 'allowed';
  } catch (e) {
    return e.code ?? e.message;
  }
};
const port = Number(process.argv[2]);
const result = {
  readOwnDir: attempt(() => readFileSync(new URL(import.meta.url))),
  readEtc: attempt(() => readFileSync('/etc/hostname')),
  readHome: attempt(() => readFileSync(`${process.env.HOME ?? '/root'}/.bashrc`)),
  writeTmp: attempt(() => writeFileSync('/tmp/capsule-esc-escape', 'x')),
  spawn: attempt(() => execFileSync('/bin/true')),
  worker: attempt(() => new Worker('setTimeout(()=>{},1)', { eval: true }).terminate()),
  env: Object.keys(process.env).sort().join(','),
};
result.connect = await new Promise((resolve) => {
  try {
    const s = net.connect(port, '127.0.0.1', () => {
      s.destroy();
      resolve('allowed');
    });
    s.on('error', (e) => resolve(e.code ?? e.message));
  } catch (e) {
    resolve(e.code ?? e.message);
  }
});
process.stdout.write(JSON.stringify(result));
