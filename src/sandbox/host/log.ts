// capsule:host/log: the guest's structured log. Records travel back with the
// result and reach the runtime's logger tagged with the capability id.
import type { LogRecord } from '../job.js';

const MAX_RECORDS = 1000;
const MAX_MESSAGE = 4096;
const LEVELS = new Set(['debug', 'info', 'warn', 'error']);

export function logInterface(records: LogRecord[]): object {
  let dropped = 0;
  return {
    log(level: string, message: string): void {
      if (records.length >= MAX_RECORDS) {
        // Past the cap, count instead of keeping, and say so once at the end.
        dropped += 1;
        records[MAX_RECORDS - 1] = { level: 'warn', message: `capsule: ${dropped} more log records dropped` };
        return;
      }
      const lvl = (LEVELS.has(level) ? level : 'info') as LogRecord['level'];
      const text = message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE)}…` : message;
      records.push({ level: lvl, message: text });
    },
  };
}
