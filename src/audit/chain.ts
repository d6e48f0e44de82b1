// The audit file's hash chain, as pure functions over line text.
//
// A line is one JSON object: {"seq":N,"time":ISO,"prev":H,"event":...,"hash":H}.
//  - seq: 1 on the first line of the file, then +1 per line (so seq = line number).
//  - prev: SHA-256 (hex) of the previous line's exact text, without its newline;
//    GENESIS on line 1. Editing, deleting or reordering any earlier line breaks it.
//  - hash: SHA-256 (hex) of this line's text without its `,"hash":"…"` member,
//    i.e. of the text that ends in `}` just before it. It lets verify name the
//    edited line itself rather than the one after it.
import { createHash } from 'node:crypto';

/** What line 1 chains to: 64 zeros. */
export const GENESIS = '0'.repeat(64);

const SEAL = /,"hash":"([0-9a-f]{64})"\}$/;

export function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

export interface ChainState {
  /** seq of the last line written (0 for an empty file). */
  seq: number;
  /** SHA-256 of the last line's text (GENESIS for an empty file). */
  prev: string;
}

export const EMPTY_CHAIN: ChainState = { seq: 0, prev: GENESIS };

/**
 * The line that follows `state` for `fields` (which must not use seq, time,
 * prev or hash), and the state after it.
 */
export function sealLine(state: ChainState, time: Date, fields: Record<string, unknown>): { line: string; next: ChainState } {
  const seq = state.seq + 1;
  const body = JSON.stringify({ seq, time: time.toISOString(), prev: state.prev, ...fields });
  const line = `${body.slice(0, -1)},"hash":"${sha256(body)}"}`;
  return { line, next: { seq, prev: sha256(line) } };
}

export interface AuditRecord {
  seq: number;
  time: string;
  prev: string;
  hash: string;
  event: string;
  [field: string]: unknown;
}

/** Parses one line and checks it against itself (not yet its place in the chain); a string is the problem. */
export function openLine(line: string): AuditRecord | string {
  const m = SEAL.exec(line);
  if (!m) return 'not a complete audit line (truncated or not written by capsule)';
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return 'not JSON (truncated or corrupted)';
  }
  const r = value as Partial<AuditRecord>;
  if (
    typeof r !== 'object' ||
    r === null ||
    !Number.isInteger(r.seq) ||
    typeof r.time !== 'string' ||
    typeof r.prev !== 'string' ||
    typeof r.event !== 'string'
  ) {
    return 'missing seq, time, prev or event';
  }
  const body = `${line.slice(0, m.index)}}`;
  if (sha256(body) !== m[1]) return 'content does not match its hash (the line was edited)';
  return r as AuditRecord;
}

export interface BrokenLine {
  /** 1-based line number in the file. */
  line: number;
  reason: string;
}

export interface ChainReport {
  lines: number;
  /** The state after the last good line. */
  state: ChainState;
  /** The first line that is not what it should be; absent when the chain is intact. */
  broken?: BrokenLine;
}

/** Walks a whole audit file's text and reports the first broken line. */
export function verifyChain(text: string): ChainReport {
  if (text === '') return { lines: 0, state: EMPTY_CHAIN };
  const endsClean = text.endsWith('\n');
  const lines = (endsClean ? text.slice(0, -1) : text).split('\n');
  let state = EMPTY_CHAIN;
  for (const [i, line] of lines.entries()) {
    const n = i + 1;
    const fail = (reason: string): ChainReport => ({ lines: lines.length, state, broken: { line: n, reason } });
    const r = openLine(line);
    if (typeof r === 'string') return fail(r);
    if (r.seq !== n) {
      return fail(`sequence number is ${r.seq} where ${n} was expected (lines deleted, inserted or reordered before it)`);
    }
    if (r.prev !== state.prev) {
      return fail(n === 1 ? 'does not start the chain (prev is not the genesis value)' : `does not chain to line ${n - 1} (prev hash differs)`);
    }
    if (n === lines.length && !endsClean) return fail('no newline at its end (a truncated write)');
    state = { seq: r.seq, prev: sha256(line) };
  }
  return { lines: lines.length, state };
}
