// `capsule help`, `capsule --help`: the list of commands; `capsule <command> --help` and
// `capsule help <command>`: that command's usage and every flag it takes.

const ALLOW = `  --allow-read P       grant reading path P (and below); repeatable, or P1,P2
  --allow-write P      grant writing path P (and below)
  --allow-env NAME     grant the environment variable NAME (its value from here)
  --allow-net HOST     grant outbound connections to HOST (host:port, *.domain)
  --allow-host IFACE   grant a host interface, e.g. capsule:host/log
  --allow-clocks       grant wall and monotonic clocks (a bare .wasm: also requests them)
  --allow-random       grant randomness (a bare .wasm: also requests it)
                       For a bare .wasm the --allow-* flags are also its request (there
                       is no manifest); for a catalog capability they grant only what its
                       manifest asks for. Paths resolve against the current directory.`;
const CAPS = `  --capabilities DIR   where capabilities live (repeatable; default ./capabilities, else
                       the catalog installed with capsule)`;
const POLICY = '  --policy F           policy file granting interfaces, limits and tiers';

export const COMMAND_HELP: Record<string, string> = {
  run: `usage: capsule run <id|file.wasm> [options] [-- ARGS for a command-world guest]

Runs one call. Capability world: prints the output JSON. Command world: the guest's
stdout and stderr pass through and capsule exits with its exit code. Each access the
guest was refused is printed on stderr as capsule: PERMISSION_DENIED: ..., also when
the call fails.

options:
  --input JSON         the input (else --input-file, else stdin, else {})
  --input-file F       read the input from F
  --json               print { output, stats, denials }; on failure { error: { code, message, details } }
${ALLOW}
  --timeout MS         wall-clock limit of the call
  --memory SIZE        memory limit, e.g. 64MiB
  --tier T             inline, worker, process or vm
${POLICY}
${CAPS}
  --audit F            append an audit line per decision to F (default $CAPSULE_AUDIT_LOG)
`,
  list: `usage: capsule list [--json] [--policy F] [--capabilities DIR]

Every capability found, what it requests, its tier; --json adds each one's input and
output schemas.

options:
  --json               print a JSON array
${POLICY}
${CAPS}
`,
  inspect: `usage: capsule inspect <id|file.wasm> [--json] [options]

The manifest, imports/exports, requested vs granted, limits and tier, without running
guest code.

options:
  --json               print JSON
${ALLOW}
${POLICY}
${CAPS}
`,
  new: `usage: capsule new <id> --lang js|ts|wat|c [--dir D]

Makes a capability directory that builds, passes its examples and runs as it is:
capability.json, src/, examples.json, README.md (docs/authoring.md).

options:
  --lang L             js, ts, wat or c
  --dir D              where to create it (default ./<id>)
`,
  build: `usage: capsule build [DIR...] [--sign KEY [--id NAME]] [--check]

Builds each capability directory's src/ entry (.wat, .c, plugin.js/ts or index.js/ts)
into its component and pins the digest in capability.json. Without DIR: . if it has a
capability.json, else every directory below . that has one. JavaScript/TypeScript needs
@bytecodealliance/componentize-js and esbuild installed; C needs clang and wasi-libc.
A JavaScript/TypeScript manifest's build.warmup inputs (checked against inputSchema) go
through run once each before the engine is snapshotted (docs/authoring.md).

options:
  --sign KEY           sign the manifest with this key (from capsule keygen)
  --id NAME            the key's policy id, when KEY does not name it
  --check              build in memory and fail (DIGEST_MISMATCH) unless the pinned digest results
`,
  test: `usage: capsule test [DIR] [options]

Runs the examples in DIR/examples.json ([{ name?, input, output?, error? }]) against
DIR's built component; prints pass/FAIL per example with the denials; exits 1 if one fails.

options:
${ALLOW}
  --timeout MS         wall-clock limit of each call
  --tier T             inline, worker, process or vm
${POLICY}
`,
  keygen: `usage: capsule keygen [--out DIR] [--id NAME]

A new Ed25519 key in DIR/<id>.key (mode 0600); prints the trustedKeys entry for the policy.

options:
  --out DIR            where to write the key (default .)
  --id NAME            the key's id (default its fingerprint)
`,
  sign: `usage: capsule sign <dir> --key F [--id NAME]

Pins the digest of <dir>'s component and signs <dir>/capability.json.

options:
  --key F              the private key (from capsule keygen, or any PKCS#8 PEM Ed25519 key)
  --id NAME            the key's policy id, when F does not name it
`,
  verify: `usage: capsule verify <dir> [--policy F]

Checks provider, digest and signature; exits 1 if one is bad.

options:
${POLICY}
`,
  audit: `usage: capsule audit verify [FILE]
       capsule audit tail [FILE] [-n N] [--json]
       capsule audit query [FILE] [FILTERS]
       capsule audit report [FILE] [FILTERS] [--json]

verify checks the audit log's hash chain and names the first broken line; tail prints the
last N lines; query prints the matching lines as JSON, one a line; report sums them up
(calls, denials, limits hit, escalations, fallbacks, signature and provider refusals).
FILE defaults to $CAPSULE_AUDIT_LOG, else ./capsule-audit.jsonl.

options:
  -n, --lines N        how many lines tail prints (default 20)
  --json               tail: print the records as JSON; report: the numbers as JSON
filters (query, report):
  --capability ID      a capability id; * matches any run of characters (acme.*)
  --principal P        lines on behalf of P
  --kind EVENT         lines of one event (denial, limit, run.end, load, ...)
  --severity S         info, warning or critical: that level and above
  --since T, --until T ISO 8601 date-time, or a span back from now (90s, 30m, 24h, 7d)
`,
  prepare: `usage: capsule prepare [ID...] [--json] [--policy F] [--capabilities DIR]

Transpiles each capability (without ID: every one in the catalog) into the transpile
cache ahead of time, checking its provenance as run does, so that its first run does
not pay for it. One progress line per capability on stderr; a failure is reported and
the others go on; exits 1 if one failed.

options:
  --json               print [{ id, source, ms, error? }]
${POLICY}
${CAPS}
`,
  cache: `usage: capsule cache [info] [--json]
       capsule cache clean

info prints the transpile cache's path, entries, bytes and cap; clean removes every entry.

options:
  --json               print JSON
`,
  doctor: `usage: capsule doctor [--json]

Node, each tier and runner: usable here, and why not.

options:
  --json               print JSON
`,
  bench: `usage: capsule bench [options]

What each tier costs, beside baselines and Extism.

options:
  --tiers LIST         inline,worker,process,vm
  --workloads LIST     echo,echo-1mib,fib,markdown,wc,echo-audit,host-calls or none
  --peers LIST         extism or none
  --rows LIST          goal rows (default all, or none): worker-echo,worker-extism,
                       inline-direct,fresh-instance,markdown-fresh,echo-16mib,throughput,
                       cli-run,cli-version,markdown-first-call,fuel-fib,fuel-markdown
  --rounds N           rounds per goal row (default 10, 3 with --quick)
  --duration S         seconds per measurement of the latency table
  --quick              a short run
  --out DIR            where to write results (default ./bench-results)
  --json               print JSON
`,
};

export const HELP = `capsule: run untrusted WebAssembly components under deny-by-default grants

usage:
  capsule run <id|file.wasm> [--input JSON | --input-file F | stdin] [--json]
              [--allow-read P] [--allow-write P] [--allow-env V] [--allow-net H]
              [--allow-host IFACE] [--allow-clocks] [--allow-random]
              [--timeout MS] [--memory 64MiB] [--tier T]
              [--policy F] [--capabilities DIR] [--audit F] [-- ARGS for a command]
  capsule list [--json]                 capabilities, what they request, their tier
  capsule inspect <id|file> [--json]    manifest, imports/exports, requested vs granted, tier
  capsule new <id> --lang js|ts|wat|c   a capability directory to start from (docs/authoring.md)
  capsule build [DIR...] [--sign KEY]   build src/ into the component, pin its digest
  capsule test [DIR]                    run DIR/examples.json; exit 1 if one fails
  capsule doctor [--json]               Node, each tier and runner: usable here, and why not
  capsule keygen [--out DIR] [--id NAME]
                                        new Ed25519 key: DIR/<id>.key (0600); prints the
                                        trustedKeys entry for the policy
  capsule sign <dir> --key F [--id NAME]
                                        pin digest and sign <dir>/capability.json
  capsule verify <dir> [--policy F]     check provider, digest and signature; exit 1 if bad
  capsule audit verify [FILE]           check the audit log's hash chain; names the first broken line
  capsule audit tail [FILE] [-n N] [--json]
                                        the last N lines (default 20), readable
  capsule prepare [ID...] [--json]      transpile ahead of time into the cache (no ID: all)
  capsule audit query [FILE] [--capability ID] [--principal P] [--kind EVENT] [--severity S] [--since T] [--until T]
                                        matching lines as JSON
  capsule audit report [FILE] [--since T] [...] [--json]
                                        calls, denials, limits hit, escalations, refusals
  capsule cache [info] [--json]         the transpile cache: path, entries, bytes (and its cap)
  capsule cache clean                   remove every cache entry
  capsule bench [--tiers inline,worker,process,vm] [--workloads echo,echo-1mib,fib,markdown,wc,echo-audit]
                [--peers extism|none] [--rows LIST|none] [--rounds N] [--duration S] [--quick]
                [--out DIR] [--json]    what each tier costs, beside baselines and Extism
  capsule help [COMMAND] | COMMAND --help | --version

options:
  --capabilities DIR   where capabilities live (repeatable; default ./capabilities)
  --policy F           policy file granting interfaces, limits and tiers
  --audit F            append an audit line per decision to F (default $CAPSULE_AUDIT_LOG;
                       audit verify/tail default to it, else ./capsule-audit.jsonl)
`;
