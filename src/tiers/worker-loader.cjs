// The file each pool worker starts from (built to dist/worker.cjs; see src/tiers/worker.ts).
//
// CommonJS, loading the ES worker with import(): on Node 20.19+ and 22, require() of
// an ES module instantiates its graph synchronously, and a worker terminated in that
// moment (a call's timeout, a pool closing while a replacement starts) aborts the
// whole process with the V8 fatal "IsGraphAsync must be used on an instantiated
// module"; an import() that a termination interrupts merely stops. The worker
// reports ready itself (worker-entry.ts), after its glue preload.
'use strict';

import('./worker.js');
