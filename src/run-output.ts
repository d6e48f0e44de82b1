// What a call's result becomes for the caller: the checks between a tier's
// JobResult and RunResult.output (errors, size caps, JSON). The input cap is in run-input.ts.
import { CapsuleError, messageOf } from './errors.js';
import { parseJson } from './json-text.js';
import { bytesOver } from './utf8-size.js';
import type { Job, JobResult } from './sandbox/job.js';

/** What the checks need of the call: a component's Job or a container capability's. */
type Call = Pick<Job, 'capabilityId' | 'limits'>;

export interface CommandOutput {
  exitCode: number;
  stdout: string;
  stderr: string;
}

function failed(r: JobResult): CapsuleError | undefined {
  if (r.outcome.ok) return undefined;
  const { error } = r.outcome;
  // What the guest was refused often explains why it failed: keep it with the error.
  if (r.denials.length === 0) return CapsuleError.fromData(error);
  return CapsuleError.fromData({ ...error, details: { ...error.details, denials: r.denials } });
}

function tooLarge(job: Call, bytes: number, r?: JobResult): CapsuleError {
  return new CapsuleError(
    'OUTPUT_TOO_LARGE',
    `${job.capabilityId}: output is ${bytes} bytes, over the limit of ${job.limits.outputBytes}`,
    r && r.denials.length > 0 ? { denials: r.denials } : undefined,
  );
}

/**
 * A capability's output text, held to outputBytes. `counted`: the sandbox code in this
 * process (worker or inline tier, sandbox/execute.ts) already held it to the limit, so
 * it is not counted again; a result from another process (process, vm tier) is.
 */
export function capabilityOutputText(r: JobResult, job: Call, counted: boolean): string {
  const error = failed(r);
  if (error) throw error;
  const text = r.outcome.ok ? r.outcome.value : '';
  const size = counted ? undefined : bytesOver(text, job.limits.outputBytes);
  if (size !== undefined) throw tooLarge(job, size, r);
  return text;
}

/** The output text parsed, for run(); not JSON is OUTPUT_INVALID with where and why. */
export function parseOutput(text: string, job: Call): unknown {
  try {
    return parseJson(text);
  } catch (e) {
    throw new CapsuleError('OUTPUT_INVALID', `${job.capabilityId}: output is not JSON text: ${messageOf(e)}`);
  }
}

export function commandOutput(r: JobResult, job: Call): CommandOutput {
  const error = failed(r);
  if (error) throw error;
  if (r.truncated) throw tooLarge(job, Math.max(Buffer.byteLength(r.stdout), Buffer.byteLength(r.stderr)) + 1, r);
  return { exitCode: r.outcome.ok ? (r.outcome.exitCode ?? 0) : 1, stdout: r.stdout, stderr: r.stderr };
}
