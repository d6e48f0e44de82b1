// How the CLI ends on failure: one line `capsule: CODE: message`, never a stack trace.
import { CapsuleError, messageOf } from '../errors.js';
import { oneLine } from './safe-text.js';

export function usage(message: string): CapsuleError {
  return new CapsuleError('USAGE', `${message} (see capsule help)`);
}

export function report(e: unknown): number {
  const err = e instanceof CapsuleError ? e : new CapsuleError('INTERNAL', messageOf(e));
  // The message may quote a guest (its err text) or a file: escaped, it stays one line
  // and cannot forge a second `capsule:` line or drive the terminal.
  process.stderr.write(`capsule: ${err.code}: ${oneLine(err.message)}\n`);
  return err.code === 'USAGE' ? 2 : 1;
}
