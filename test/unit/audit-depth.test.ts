// A level's audit depth (grants/levels.ts): what a call's run.end line records of
// its input and output. The policy's `levels.<level>.audit` replaces the default.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { auditDepth } from '../../src/grants/levels.js';
import { callEvidence } from '../../src/run-audit.js';

describe('audit depth', () => {
  it('defaults follow the level: pure minimal, controlled standard, sandboxed and full comprehensive', () => {
    expect(['pure', 'controlled', 'sandboxed', 'full'].map((l) => auditDepth(undefined, l as 'pure'))).toEqual([
      'minimal',
      'standard',
      'comprehensive',
      'comprehensive',
    ]);
    expect(auditDepth({ pure: { audit: 'comprehensive' } }, 'pure')).toBe('comprehensive');
    expect(auditDepth({ pure: { audit: 'comprehensive' } }, 'controlled')).toBe('standard');
  });

  it('minimal records nothing more, standard the sizes, comprehensive the sizes and SHA-256', () => {
    expect(callEvidence('minimal', '"héllo"', { n: 1 })).toBeUndefined();
    expect(callEvidence('standard', '"héllo"', { n: 1 })).toEqual({ inputBytes: 8, outputBytes: 7 });
    const sha = (t: string) => createHash('sha256').update(t).digest('hex');
    expect(callEvidence('comprehensive', { args: ['a'] }, 'out')).toEqual({
      inputBytes: 14,
      outputBytes: 3,
      inputSha256: sha('{"args":["a"]}'),
      outputSha256: sha('out'),
    });
  });
});
