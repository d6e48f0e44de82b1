// wasi:filesystem/*: with no filesystem grant there are no preopens, so the guest
// can never obtain a Descriptor. The classes exist only so the glue links.

export class Descriptor {
  private constructor() {}
}
export class DirectoryEntryStream {
  private constructor() {}
}

export function filesystemInterfaces(): Record<string, object> {
  return {
    'wasi:filesystem/preopens': { getDirectories: (): [Descriptor, string][] => [] },
    'wasi:filesystem/types': {
      Descriptor,
      DirectoryEntryStream,
      filesystemErrorCode: () => undefined,
    },
  };
}
