// The names of the baseline and peer rows in the latency table.
export const SUBJECTS = {
  postMessage: 'postMessage echo',
  directReused: 'direct (reused instance)',
  directFresh: 'direct (fresh instance)',
  extismForeground: 'extism (foreground)',
  extismWorker: 'extism (runInWorker)',
} as const;
