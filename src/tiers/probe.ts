// What every runner's probe() answers: can it run here, and if not, why not.
export interface Probe {
  available: boolean;
  /** One line: what was found, or what is missing and how to fix it. */
  reason: string;
  /** The CLI or tool found, e.g. `/usr/bin/bwrap`. */
  path?: string;
  version?: string;
}

/** `Linux x86_64`, `macOS arm64`: how reasons name this machine. */
export function hostName(platform: NodeJS.Platform = process.platform, arch: string = process.arch): string {
  const os = { darwin: 'macOS', linux: 'Linux', win32: 'Windows' }[platform as string] ?? platform;
  const cpu = { x64: 'x86_64', arm64: 'arm64', ia32: 'x86' }[arch] ?? arch;
  return `${os} ${cpu}`;
}
