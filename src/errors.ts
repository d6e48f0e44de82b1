/** Every failure capsule reports carries one of these codes (SPEC: error codes). */
export const ERROR_CODES = [
  'CAPABILITY_NOT_FOUND',
  'MANIFEST_INVALID',
  'COMPONENT_INVALID',
  'DIGEST_MISMATCH',
  'SIGNATURE_INVALID',
  'PROVIDER_DENIED',
  'IMPORT_DENIED',
  'PERMISSION_DENIED',
  'INPUT_INVALID',
  'INPUT_TOO_LARGE',
  'OUTPUT_INVALID',
  'OUTPUT_TOO_LARGE',
  'TIMEOUT',
  'MEMORY_LIMIT',
  'CPU_LIMIT',
  'TRAP',
  'CAPABILITY_ERROR',
  'ESCALATION_UNAVAILABLE',
  'CONTEXT_EXPIRED',
  'ADMISSION_REJECTED',
  'ABORTED',
  'POLICY_INVALID',
  'USAGE',
  'AUDIT_INVALID',
  'BUILD_FAILED',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** Plain-data form of an error, as it crosses a worker or process boundary. */
export interface ErrorData {
  code: ErrorCode;
  message: string;
  details?: Record<string, unknown>;
}

export class CapsuleError extends Error {
  readonly code: ErrorCode;
  readonly details?: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'CapsuleError';
    this.code = code;
    if (details !== undefined) this.details = details;
  }

  toData(): ErrorData {
    return this.details === undefined ? { code: this.code, message: this.message } : { code: this.code, message: this.message, details: this.details };
  }

  static fromData(data: ErrorData): CapsuleError {
    return new CapsuleError(data.code, data.message, data.details);
  }
}

/** The message of anything thrown, for wrapping foreign errors. */
export function messageOf(e: unknown): string {
  // Anything can be thrown, including a Proxy or an object whose toString throws.
  try {
    if (e instanceof Error) return String(e.message);
    return String(e);
  } catch {
    return 'an error that cannot be shown';
  }
}
