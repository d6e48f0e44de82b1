// Runs the long-lived runtime (child.mjs) in a child process and watches it: a
// case that does not answer within its watchdog is a hang, a child that exits
// mid-case is a crash, a child whose RSS passes the ceiling is a runaway. In each
// of these the child is killed (if still alive) and replaced, and the campaign goes on.
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const CHILD = fileURLToPath(new URL('./child.mjs', import.meta.url));

function rssOf(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

export class Supervisor {
  constructor(config, { rssCeiling }) {
    this.config = config;
    this.rssCeiling = rssCeiling;
    this.generation = 0;
    this.child = undefined;
    this.stderrTail = '';
  }

  async start() {
    this.generation++;
    const child = fork(CHILD, [JSON.stringify(this.config)], { serialization: 'advanced', stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    this.child = child;
    this.stderrTail = '';
    child.stderr.on('data', (d) => (this.stderrTail = (this.stderrTail + d).slice(-4000)));
    const ready = await this.wait((m) => m.type === 'ready', 120_000);
    if (ready.kind !== 'message') throw new Error(`fuzz child did not start (${ready.kind}): ${this.stderrTail}`);
    return ready.message.rss;
  }

  /**
   * Wait for a message matching `want`, the child's exit, the deadline, or the RSS
   * ceiling. Returns { kind: 'message'|'exit'|'timeout'|'rss', ... }.
   */
  wait(want, deadlineMs) {
    const child = this.child;
    return new Promise((resolve) => {
      let peak = 0;
      const done = (r) => {
        clearTimeout(timer);
        clearInterval(poll);
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve({ ...r, peakRss: peak });
      };
      let fatal;
      const onMessage = (m) => {
        if (m.type === 'fatal') fatal = m;
        else if (want(m)) done({ kind: 'message', message: m });
      };
      const onExit = (code, signal) => done({ kind: 'exit', code, signal, fatal, stderr: this.stderrTail });
      const timer = setTimeout(() => done({ kind: 'timeout' }), deadlineMs);
      const poll = setInterval(() => {
        const rss = rssOf(child.pid) ?? 0;
        peak = Math.max(peak, rss);
        if (rss > this.rssCeiling) done({ kind: 'rss', rss });
      }, 100);
      child.on('message', onMessage);
      child.once('exit', onExit);
      if (child.exitCode !== null || child.signalCode !== null) onExit(child.exitCode, child.signalCode);
    });
  }

  async runCase(c, deadlineMs) {
    this.child.send({ type: 'case', case: c });
    const r = await this.wait((m) => m.type === 'result' && m.index === c.index, deadlineMs);
    if (r.kind === 'message') return { ...r.message.outcome, ms: r.message.ms, rss: r.message.rss, peakRss: r.peakRss };
    return this.lost(r);
  }

  async canary(nonce, deadlineMs) {
    this.child.send({ type: 'canary', nonce });
    const r = await this.wait((m) => m.type === 'canary', deadlineMs);
    if (r.kind === 'message') return { problems: r.message.problems, rss: r.message.rss };
    const lost = await this.lost(r);
    return { problems: [`canary: ${lost.class}: ${lost.message}`] };
  }

  /** The child hung, died or ran away: classify, and replace it. */
  async lost(r) {
    let outcome;
    if (r.kind === 'exit') {
      const how = r.signal ? `signal ${r.signal}` : `exit code ${r.code}`;
      outcome = { class: 'crash', code: r.signal ?? `exit ${r.code}`, message: `runtime process died (${how})${r.fatal ? `: ${r.fatal.event}: ${r.fatal.message}` : ''}\n${r.stderr.slice(-1500)}` };
    } else if (r.kind === 'timeout') {
      outcome = { class: 'hang', code: 'WATCHDOG', message: 'no answer before the watchdog' };
    } else {
      outcome = { class: 'runaway', code: 'RSS', message: `runtime process RSS ${Math.round(r.rss / 2 ** 20)} MiB passed the ceiling` };
    }
    await this.kill();
    await this.start();
    return { ...outcome, peakRss: r.peakRss };
  }

  async kill() {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }

  async stop() {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.send({ type: 'stop' });
    const r = await this.wait(() => false, 10_000);
    if (r.kind !== 'exit') await this.kill();
  }
}
