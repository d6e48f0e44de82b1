// Declarations for capabilities written in JavaScript or TypeScript (the guest side), for
// the worlds of capsule/wit/capsule.wit. Reference them from a guest source with
//   /// <reference types="capsule/guest" />
// This file is a script (no top-level import or export): its declarations are global.

/** capsule:host/log (WIT package capsule:host@0.1.0): linked only when the policy grants it. */
declare module 'capsule:host/log@0.1.0' {
  /** The WIT enum `level`, as componentize-js maps it: its case names as strings. */
  export type Level = 'debug' | 'info' | 'warn' | 'error';
  export function log(level: Level, message: string): void;
}

/** The same interface without the version: `capsule build` adds capsule:host's. */
declare module 'capsule:host/log' {
  export type { Level } from 'capsule:host/log@0.1.0';
  export { log } from 'capsule:host/log@0.1.0';
}

declare namespace Capsule {
  /**
   * The capability world's export `run: func(input: string) -> result<string, string>`:
   * JSON text in, JSON text out. A thrown string is err(message) (CAPABILITY_ERROR to the
   * caller); any other throw, an Error included, traps (TRAP).
   */
  type Run = (input: string) => string;
}
