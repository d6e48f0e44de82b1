// Run by test/process-tier.test.ts inside the process tier's sandbox for a call with
// fs grants (the same command line as a real job), with no capsule WASI in front:
// what the outer layers alone (bubblewrap binds, Node's permission flags) let through.
// argv[2]: JSON list of [op, path] with op read|write; prints {"op path": result}.
import { readFileSync, writeFileSync } from 'node:fs';

const result = {};
for (const [op, p] of JSON.parse(process.argv[2])) {
  try {
    if (op === 'read') readFileSync(p);
    else writeFileSync(p, 'PWNED');
    result[`${op} ${p}`] = 'allowed';
  } catch (e) {
    result[`${op} ${p}`] = e.code ?? e.message;
  }
}
process.stdout.write(JSON.stringify(result));
