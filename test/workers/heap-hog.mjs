// A piscina worker that exhausts its JS heap, to prove the worker tier maps a
// worker killed for out-of-memory to MEMORY_LIMIT and replaces it.
export default function hog() {
  const keep = [];
  for (;;) keep.push(new Array(1 << 16).fill({ x: keep.length }));
}
