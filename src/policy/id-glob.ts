/** `demo.*` matches `demo.text.wordcount`; `*` matches everything; other segments match exactly. */
export function matchesIdGlob(glob: string, id: string): boolean {
  if (glob === '*') return true;
  const g = glob.split('.');
  const s = id.split('.');
  for (let i = 0; i < g.length; i++) {
    if (g[i] === '*') return i === g.length - 1 ? s.length > i : s[i] !== undefined;
    if (g[i] !== s[i]) return false;
  }
  return g.length === s.length;
}

export function matchesAny(globs: string | string[] | undefined, id: string): boolean {
  if (globs === undefined) return false;
  return (Array.isArray(globs) ? globs : [globs]).some((g) => matchesIdGlob(g, id));
}
