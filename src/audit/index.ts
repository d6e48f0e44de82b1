// The audit layer: the lowest one; it imports nothing but errors.
export { type Audit, AuditLog, NO_AUDIT, openAudit } from './log.js';
export type { AuditEvent, AuditEventName } from './event.js';
export { type AuditRecord, type BrokenLine, type ChainReport, GENESIS, verifyChain } from './chain.js';
export { tailAuditFile, verifyAuditFile } from './verify.js';
export { type AuditFilter, type AuditSummary, matches, type ReadRecord, readAuditRecords, summarize } from './query.js';
export { type Severity, SEVERITIES, severityOf } from './severity.js';
