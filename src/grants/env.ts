// Environment grants: a policy entry `NAME` passes the host's value of NAME,
// `NAME=value` sets it; a guest sees only the granted names it asked for.

/** request ∩ grant for env: the names granted, with the values the guest sees; names no grant covers go to `uncovered`. */
export function intersectEnv(
  asked: string[],
  grantedEntries: string[],
  hostEnv: Readonly<Record<string, string | undefined>>,
  uncovered: string[],
): Record<string, string> {
  const given = new Map<string, string | undefined>();
  for (const entry of grantedEntries) {
    const eq = entry.indexOf('=');
    if (eq < 0) given.set(entry, given.get(entry));
    else given.set(entry.slice(0, eq), entry.slice(eq + 1));
  }
  const env: Record<string, string> = {};
  for (const name of asked) {
    if (!given.has(name)) {
      uncovered.push(`env ${name}`);
      continue;
    }
    // A value from the policy wins; otherwise the host's, if it has one.
    const value = given.get(name) ?? hostEnv[name];
    if (value !== undefined) env[name] = value;
  }
  return env;
}
