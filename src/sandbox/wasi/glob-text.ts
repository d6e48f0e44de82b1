// Glob text for the user-written `blocked` patterns. Host paths are never
// matched as globs (FsGrant.blockedPaths compares them by path segments); when
// a user's relative pattern is anchored at a host directory, that directory is
// escaped here so that `(`, `[`, `{`, `!`, `+(`, `\` in its name stay literal.

/** Characters picomatch gives a meaning to (glob, brace, extglob, negation, escape). */
const SPECIAL = /[\\*?[\]{}()!@+|]/g;

/** Glob syntax that makes an entry a pattern rather than a literal path. */
const GLOB_SYNTAX = /[*?[\]{}]|[@!+*?]\(/;

/** `/srv/a(1)` → `/srv/a\(1\)`: matches exactly that path under picomatch. */
export function escapeGlob(text: string): string {
  return text.replace(SPECIAL, '\\$&');
}

/** Does a user-written entry use glob syntax (else it names one path literally)? */
export function isGlob(entry: string): boolean {
  return GLOB_SYNTAX.test(entry);
}

/**
 * The literal directory a glob is anchored at (`/srv/a\(1\)/x/*.key` → `/srv/a(1)/x`),
 * or '' when it can match anywhere. Segments up to the first with unescaped glob
 * syntax, unescaped.
 */
export function globBase(glob: string): string {
  if (!glob.startsWith('/')) return '';
  const kept: string[] = [];
  for (const seg of glob.split('/')) {
    if (isGlob(seg.replace(/\\./g, ''))) break;
    kept.push(seg.replace(/\\(.)/g, '$1'));
  }
  return kept.join('/') || '/';
}
