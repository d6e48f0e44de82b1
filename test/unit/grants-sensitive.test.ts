// Protected host paths (src/grants/sensitive.ts) and import grants
// (src/grants/interfaces.ts), with the home directory and disk passed in.
import { describe, expect, it } from 'vitest';
import { CapsuleError } from '../../src/errors.js';
import { checkImports, intersectHost, linkReport, ungrantedImports } from '../../src/grants/interfaces.js';
import { checkGrantable, kernelRootOf, noWritePaths, sensitivePaths, withRealForms } from '../../src/grants/sensitive.js';
import { plainDisk } from './grants-gen.js';

const at = { home: '/home/me', cwd: '/work' };
const prot = { sensitive: sensitivePaths(['audit.log'], at), noWrite: noWritePaths(['/opt/capsule'], at) };

describe('sensitive paths', () => {
  it('are never grantable, nor anything inside them; a directory above one is', () => {
    for (const p of ['/etc/shadow', '/proc/self', '/home/me/.ssh/id_ed25519', '/work/audit.log', '/run/secrets/x']) {
      expect(() => checkGrantable(p, false, prot, 'p', at.home, plainDisk)).toThrow(/sensitive path/);
    }
    for (const p of ['/etc', '/home/me', '/home/me/src', '/work']) expect(() => checkGrantable(p, false, prot, 'p', at.home, plainDisk)).not.toThrow();
  });

  it('no-write trees and exact paths are refused for writing only', () => {
    for (const p of ['/usr/lib', '/', '/home', '/home/me', '/home/me/.bashrc', '/opt/capsule/dist']) {
      expect(() => checkGrantable(p, true, prot, 'p', at.home, plainDisk)).toThrow(CapsuleError);
      expect(() => checkGrantable(p, false, prot, 'p', at.home, plainDisk)).not.toThrow();
    }
    expect(() => checkGrantable('/var/data', true, prot, 'p', at.home, plainDisk)).not.toThrow();
  });

  it('a grant whose real path is protected is refused (a symlink to a secret)', () => {
    const disk = { realpath: (p: string) => (p === '/tmp/innocent' ? '/home/me/.aws' : p), isFile: () => false };
    expect(() => checkGrantable('/tmp/innocent', false, prot, 'p', at.home, disk)).toThrow(/\.aws/);
    expect(withRealForms(['/tmp/innocent'], disk)).toEqual(['/tmp/innocent', '/home/me/.aws']);
  });

  it('kernel trees are found as given or resolved', () => {
    expect(kernelRootOf(['/var/x', '/proc/self/fd/3'])).toEqual({ path: '/proc/self/fd/3', root: '/proc' });
    expect(kernelRootOf(['/devices', '/var/x'])).toBeUndefined();
  });
});

describe('import grants: IMPORT_DENIED decided once', () => {
  const imports = ['wasi:io/streams@0.2.3', 'capsule:host/log@0.1.0', 'acme:x/y'];

  it('WASI always links; a custom import links only when granted, by unversioned name', () => {
    expect(ungrantedImports(imports, ['capsule:host/log'])).toEqual(['acme:x/y']);
    expect(linkReport(imports, ['capsule:host/log@9'])).toEqual([
      { name: 'wasi:io/streams@0.2.3', link: 'wasi' },
      { name: 'capsule:host/log@0.1.0', link: 'granted' },
      { name: 'acme:x/y', link: 'denied' },
    ]);
    expect(linkReport(imports, undefined).map((i) => i.link)).toEqual(['wasi', 'denied', 'denied']);
  });

  it('request ∩ grant for host interfaces keeps granted names (any version) and reports the rest', () => {
    expect(intersectHost(['capsule:host/log@0.1.0', 'acme:x/y'], ['capsule:host/log'])).toEqual({
      host: ['capsule:host/log@0.1.0'],
      notGranted: ['host acme:x/y'],
    });
  });

  it('checkImports throws IMPORT_DENIED for an ungranted or unimplemented import, and agrees with linkReport', () => {
    expect(() => checkImports(imports, ['capsule:host/log'])).toThrow(expect.objectContaining({ code: 'IMPORT_DENIED', details: { imports: ['acme:x/y'] } }));
    expect(() => checkImports(imports, ['capsule:host/log', 'acme:x/y'])).not.toThrow();
    expect(() => checkImports(imports, ['capsule:host/log', 'acme:x/y'], new Set(['capsule:host/log']))).toThrow(/no implementation/);
    for (const granted of [[], ['capsule:host/log'], ['acme:x/y'], ['capsule:host/log', 'acme:x/y']]) {
      const refused = linkReport(imports, granted).some((i) => i.link === 'denied');
      let threw = false;
      try {
        checkImports(imports, granted);
      } catch {
        threw = true;
      }
      expect(threw).toBe(refused);
    }
  });
});
