import { CapsuleError } from '../../src/errors.js';

/** The CapsuleError that `f` throws (any other error, or none, fails the test). */
export function refusal(f: () => unknown): CapsuleError {
  try {
    f();
  } catch (e) {
    if (e instanceof CapsuleError) return e;
    throw e;
  }
  throw new Error('expected a CapsuleError');
}
