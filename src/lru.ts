// A Map that keeps at most `max` entries, dropping the least recently used.
// capsule keeps one entry per distinct component in a few places (loaded
// capabilities, compiled components, capped modules, glue in workers); without a
// bound a long-lived runtime that sees many components grows without end.
// Small enough to own rather than add a dependency: Map keeps insertion order,
// so re-inserting on a hit makes the first key the least recently used.

export class Lru<K, V> {
  private readonly map = new Map<K, V>();

  constructor(readonly max: number) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`Lru size must be a positive whole number, not ${max}`);
  }

  get size(): number {
    return this.map.size;
  }

  /** The value, now the most recently used; undefined when absent. */
  get(key: K): V | undefined {
    if (!this.map.has(key)) return undefined;
    const value = this.map.get(key) as V;
    this.map.delete(key);
    this.map.set(key, value);
    return value;
  }

  has(key: K): boolean {
    return this.map.has(key);
  }

  /** Adds or replaces `key` as the most recently used, dropping the oldest beyond `max`. */
  set(key: K, value: V): this {
    this.map.delete(key);
    this.map.set(key, value);
    while (this.map.size > this.max) this.map.delete(this.map.keys().next().value as K);
    return this;
  }

  delete(key: K): boolean {
    return this.map.delete(key);
  }

  /** Deletes `key` only while it still maps to `value` (a failed promise must not drop its replacement). */
  deleteIf(key: K, value: V): void {
    if (this.map.get(key) === value) this.map.delete(key);
  }

  /** Keys from least to most recently used. */
  keys(): K[] {
    return [...this.map.keys()];
  }
}
