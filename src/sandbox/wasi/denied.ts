import { CapsuleError } from '../../errors.js';

/**
 * An interface the guest imports but was not granted (or capsule does not provide).
 * It links, so components that merely import it still run, but any use traps with
 * PERMISSION_DENIED naming the interface and member. Classes come back as
 * constructors that throw, so the glue's `instanceof` checks stay well-formed.
 */
export function deniedInterface(name: string, reason: string): Record<string, unknown> {
  return new Proxy(
    {},
    {
      get(_target, member) {
        if (typeof member !== 'string') return undefined;
        return function denied() {
          throw new CapsuleError('PERMISSION_DENIED', `${name}#${member} is not available to the guest: ${reason}`);
        };
      },
    },
  );
}
