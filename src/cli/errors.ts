// How the CLI ends on failure: one line `capsule: CODE: message`, never a stack trace.
import { CapsuleError, messageOf } from '../errors.js';

export function usage(message: string): CapsuleError {
  return new CapsuleError('USAGE', `${message} (see capsule help)`);
}

export function report(e: unknown): number {
  const err = e instanceof CapsuleError ? e : new CapsuleError('INTERNAL', messageOf(e));
  process.stderr.write(`capsule: ${err.code}: ${err.message}\n`);
  return err.code === 'USAGE' ? 2 : 1;
}
