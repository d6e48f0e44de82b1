// The images a VM runner starts, checked on this machine before they run: present
// locally (a run must not pull; doctor says how to build the runner image), and, when
// pinned as `name@sha256:…`, holding that digest. Apple's `container image inspect`
// prints a JSON array of ImageResource ({ configuration: { descriptor: { digest } } });
// docker/podman print `--format {{json .RepoDigests}}` (`["name@sha256:…"]`).
import { runBounded } from '../exec.js';
import type { ContainerCli } from './vm-tier.js';

export interface LocalImage {
  present: boolean;
  /** The image's manifest digests (`sha256:…`) this CLI knows. */
  digests: string[];
  /** The CLI's own words when it is not present. */
  message?: string;
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** `alpine@sha256:…` → `sha256:…`; undefined when the reference is not pinned. */
export function pinnedDigest(image: string): string | undefined {
  const at = image.lastIndexOf('@');
  const digest = at < 0 ? undefined : image.slice(at + 1);
  return digest !== undefined && DIGEST.test(digest) ? digest : undefined;
}

export function inspectImageArgv(kind: ContainerCli['kind'], image: string): string[] {
  return kind === 'apple-container' ? ['image', 'inspect', image] : ['image', 'inspect', '--format', '{{json .RepoDigests}}', image];
}

export async function inspectImage(cli: ContainerCli, image: string, timeoutMs = 15_000): Promise<LocalImage> {
  const r = await runBounded(cli.command, inspectImageArgv(cli.kind, image), timeoutMs, { maxStdoutBytes: 1 << 20 });
  if (r.code !== 0) {
    const message = r.timedOut ? `${cli.kind} image inspect did not answer in ${timeoutMs} ms` : (r.spawnError ?? (r.stderr.trim() || `exit ${r.code}`));
    return { present: false, digests: [], message };
  }
  return { present: true, digests: parseDigests(cli.kind, r.stdout) };
}

function parseDigests(kind: ContainerCli['kind'], stdout: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdout);
  } catch {
    return [];
  }
  if (!Array.isArray(parsed)) return [];
  const found =
    kind === 'apple-container'
      ? parsed.map((i: { configuration?: { descriptor?: { digest?: unknown } } }) => i?.configuration?.descriptor?.digest)
      : parsed.map((d: unknown) => (typeof d === 'string' ? d.slice(d.lastIndexOf('@') + 1) : undefined));
  return found.filter((d): d is string => typeof d === 'string' && DIGEST.test(d));
}

/** How to build the runner image with this CLI (shown by doctor and in errors). */
export function buildCommand(kind: ContainerCli['kind'], image: string): string {
  return `${kind === 'apple-container' ? 'container' : kind} build -t ${image} -f Containerfile .`;
}
