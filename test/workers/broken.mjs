// A pool worker that fails as it starts, to prove the worker tier fails the call
// with the reason instead of restarting it in a loop or waiting out the start bound.
throw new Error('this worker fails on purpose as it starts');
