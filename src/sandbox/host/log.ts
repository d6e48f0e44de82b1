// capsule:host/log: the guest's structured log. Records travel back with the
// result and reach the runtime's logger tagged with the capability id.
// Capped three ways, so a chatty or hostile guest cannot flood the host: at most
// MAX_RECORDS records and MAX_TOTAL bytes per call, each message cut at
// MAX_MESSAGE, and a rate of RATE_PER_SECOND records (bursts of BURST). What is
// over a cap is counted and reported once, in the last record. The records kept
// are also charged to the call's budget (call-budget.ts), so they count against
// its memory limit like every other host-side buffer.
import type { CallBudget } from '../call-budget.js';
import type { LogRecord } from '../job.js';

const MAX_RECORDS = 1000;
const MAX_MESSAGE = 4096;
const MAX_TOTAL = 1024 * 1024;
const RATE_PER_SECOND = 1000;
const BURST = 200;
const LEVELS = new Set(['debug', 'info', 'warn', 'error']);
/** Host bytes a kept record costs beyond its text (the object, the array slot). */
const RECORD_OVERHEAD = 64;

export function logInterface(records: LogRecord[], budget: CallBudget, now: () => number = () => performance.now()): object {
  let dropped = 0;
  let total = 0;
  let tokens = BURST;
  let last = now();
  let noteAt = -1;
  const drop = () => {
    dropped += 1;
    const note: LogRecord = { level: 'warn', message: `capsule: ${dropped} more log records dropped (log caps)` };
    if (noteAt === records.length - 1 && noteAt >= 0) records[noteAt] = note;
    else if (records.length < MAX_RECORDS) noteAt = records.push(note) - 1;
    else {
      noteAt = MAX_RECORDS - 1;
      records[noteAt] = note;
    }
  };
  return {
    log(level: string, message: string): void {
      const t = now();
      tokens = Math.min(BURST, tokens + ((t - last) / 1000) * RATE_PER_SECOND);
      last = t;
      if (tokens < 1 || records.length >= MAX_RECORDS - 1 || total >= MAX_TOTAL) {
        drop();
        return;
      }
      tokens -= 1;
      const lvl = (LEVELS.has(level) ? level : 'info') as LogRecord['level'];
      const text = message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE)}…` : message;
      // JS strings take up to 2 bytes per UTF-16 unit in the host; MAX_TOTAL is in UTF-8 bytes, as the caller sees them.
      budget.charge(RECORD_OVERHEAD + 2 * text.length, 'a capsule:host/log record');
      total += Buffer.byteLength(text);
      records.push({ level: lvl, message: text });
    },
  };
}
