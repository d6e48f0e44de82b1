// Progress on stderr while the bench runs: a bar redrawn in place on a terminal,
// one line per step otherwise (CI logs, pipes).
export interface Progress {
  start(total: number): void;
  step(label: string): void;
  done(): void;
}

export function stderrProgress(): Progress {
  const tty = process.stderr.isTTY === true;
  let n = 0;
  let total = 1;
  const started = performance.now();
  return {
    start(t) {
      total = Math.max(1, t);
    },
    step(label) {
      n++;
      const secs = ((performance.now() - started) / 1000).toFixed(0);
      if (tty) {
        const width = 24;
        const filled = Math.round((Math.min(n, total) / total) * width);
        const bar = `${'#'.repeat(filled)}${'.'.repeat(width - filled)}`;
        const line = `[${bar}] ${n}/${total} ${secs}s ${label}`;
        process.stderr.write(`\r\x1b[K${line.slice(0, (process.stderr.columns ?? 100) - 1)}`);
      } else {
        process.stderr.write(`bench [${n}/${total}] ${secs}s ${label}\n`);
      }
    },
    done() {
      if (tty) process.stderr.write('\r\x1b[K');
    },
  };
}
