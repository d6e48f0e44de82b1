/** `wasi:io/streams@0.2.3` → `wasi:io/streams`: grants and host tables carry no version. */
export function unversioned(name: string): string {
  const at = name.indexOf('@');
  return at === -1 ? name : name.slice(0, at);
}

export function isWasi(name: string): boolean {
  return name.startsWith('wasi:');
}

/** The custom (non-WASI) imports that `granted` does not cover. */
export function ungrantedImports(imports: string[], granted: string[]): string[] {
  const ok = new Set(granted.map(unversioned));
  return imports.filter((name) => !isWasi(name) && !ok.has(unversioned(name)));
}
