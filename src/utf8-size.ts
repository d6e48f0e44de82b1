// A string's UTF-8 size against a byte limit, counted only when it can matter.
// A UTF-16 code unit is at most 3 UTF-8 bytes, so text of at most limit/3 units
// fits without counting, and text of more than `limit` units cannot fit. A 16 MiB
// call counted its bytes three times (input, output in the sandbox, output again
// on the main thread); now each size is counted at most once, and usually never.

/** The byte size of `text` when it is over `limit`; undefined when it fits. */
export function bytesOver(text: string, limit: number): number | undefined {
  if (text.length * 3 <= limit) return undefined;
  const size = Buffer.byteLength(text);
  return size > limit ? size : undefined;
}
