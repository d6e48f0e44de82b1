// The file piscina loads in each pool worker (built to dist/worker.cjs).
//
// piscina require()s its task file before it tries import(). On Node 20.19+ and
// 22, require() of an ES module instantiates the module graph synchronously, and
// a worker terminated in that moment (a call's timeout, a pool closing while a
// replacement worker starts) aborts the whole process with the V8 fatal
// "IsGraphAsync must be used on an instantiated module". This file is CommonJS,
// so require() never takes that path: it loads the ES worker with import(), which
// a termination merely stops.
//
// `__esModule` makes piscina await `default` before the worker reports ready, so
// the worker's glue preload still finishes before its first call.
'use strict';

module.exports = { __esModule: true, default: import('./worker.js').then((m) => m.default) };
