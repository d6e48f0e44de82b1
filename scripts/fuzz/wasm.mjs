// Structure-aware mutation of WebAssembly components: parse the section tree
// (a component's nested core modules and components included), mutate one node,
// and encode again, so most mutants get past the header and reach the parser's
// deeper paths instead of failing at byte 9.
const COMPONENT_VERSION = [0x0d, 0x00, 0x01, 0x00];

export function uleb(n, pad = 0) {
  const out = [];
  let v = n;
  do {
    let b = v % 128;
    v = Math.floor(v / 128);
    if (v > 0 || out.length + 1 < pad) b |= 0x80;
    out.push(b);
  } while (v > 0 || out.length < pad);
  return Uint8Array.from(out);
}

export function sleb(n) {
  const out = [];
  let v = n;
  for (;;) {
    const b = v & 0x7f;
    v = Math.floor(v / 128);
    const done = (v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0);
    out.push(done ? b : b | 0x80);
    if (done) return Uint8Array.from(out);
  }
}

export function readUleb(bytes, off) {
  let value = 0;
  let mul = 1;
  for (let i = 0; i < 5; i++) {
    if (off + i >= bytes.length) return null;
    const b = bytes[off + i];
    value += (b & 0x7f) * mul;
    mul *= 128;
    if ((b & 0x80) === 0) return { value, len: i + 1 };
  }
  return null;
}

export function concat(parts) {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const isComponentHeader = (h) => COMPONENT_VERSION.every((b, i) => h[4 + i] === b);

/** The section tree of a core module or component, or null if it does not parse. */
export function parse(bytes, depth = 0) {
  if (bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) return null;
  const header = bytes.slice(0, 8);
  const component = isComponentHeader(header);
  const sections = [];
  let off = 8;
  while (off < bytes.length) {
    const id = bytes[off];
    const size = readUleb(bytes, off + 1);
    if (!size || off + 1 + size.len + size.value > bytes.length) return null;
    const start = off + 1 + size.len;
    const payload = bytes.subarray(start, start + size.value);
    const section = { id, payload };
    // 1: core module, 4: nested component (component binary format).
    if (component && (id === 1 || id === 4) && depth < 4) section.child = parse(payload, depth + 1) ?? undefined;
    sections.push(section);
    off = start + size.value;
  }
  return { header, component, sections };
}

export function encode(node) {
  const parts = [node.header];
  for (const s of node.sections) {
    const payload = s.child ? encode(s.child) : s.payload;
    parts.push(Uint8Array.of(s.id), s.sizeBytes ?? uleb(payload.length), payload);
  }
  return concat(parts);
}

/** Every binary in the tree (the root, nested core modules and components). */
export function nodes(root) {
  const out = [root];
  for (const s of root.sections) if (s.child) out.push(...nodes(s.child));
  return out;
}

const INTERESTING_U32 = [0, 1, 0x7f, 0x80, 0x3fff, 0x4000, 0xffff, 0x10000, 0x7ffffffe, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];
const INTERESTING_BYTES = [0x00, 0x01, 0x7f, 0x80, 0xff, 0x40, 0x60, 0x70, 0x0b, 0x73];
const CUSTOM_NAMES = ['dylink.0', 'name', 'producers', 'target_features', 'component-type:fuzz', 'linking', 'reloc.CODE', '', 'metadata.code.branch_hint', '\u0000', 'ñ'.repeat(64), 'x'.repeat(70000)];

/** A mutated LEB value: a boundary, off-by-one, or random. */
function mutatedU32(rng, n) {
  return rng.weighted([[4, rng.pick(INTERESTING_U32)], [2, n + 1], [2, Math.max(0, n - 1)], [1, n * 2 + 7], [1, rng.int(2 ** 32)]]);
}

/** LEB encodings a decoder must refuse or bound: overlong, over 32 bits, unterminated. */
function weirdLeb(rng, n) {
  return rng.weighted([
    [6, uleb(n)],
    [2, uleb(n, 5)],
    [1, uleb(n, rng.range(6, 10))],
    [1, Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x7f)],
    [1, Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x80)],
  ]);
}

function flipBits(rng, bytes, count) {
  const b = bytes.slice();
  if (b.length === 0) return b;
  for (let i = 0; i < count; i++) b[rng.int(b.length)] ^= 1 << rng.int(8);
  return b;
}

function insertBytes(rng, bytes) {
  const at = rng.int(bytes.length + 1);
  const n = rng.pick([1, 1, 2, 4, 8, 16, 300]);
  const ins = rng.chance(0.5) ? rng.bytes(n) : new Uint8Array(n).fill(rng.pick(INTERESTING_BYTES));
  return concat([bytes.subarray(0, at), ins, bytes.subarray(at)]);
}

function deleteBytes(rng, bytes) {
  if (bytes.length === 0) return bytes;
  const at = rng.int(bytes.length);
  const n = Math.min(bytes.length - at, rng.pick([1, 1, 2, 4, 8, 64]));
  return concat([bytes.subarray(0, at), bytes.subarray(at + n)]);
}

function overwriteInteresting(rng, bytes) {
  const b = bytes.slice();
  if (b.length) b[rng.int(b.length)] = rng.pick(INTERESTING_BYTES);
  return b;
}

/** Replace the LEB at `off` (e.g. a vec count or string length) with a mutated one. */
function corruptLebAt(rng, bytes, off) {
  const cur = readUleb(bytes, off);
  if (!cur) return bytes;
  return concat([bytes.subarray(0, off), weirdLeb(rng, mutatedU32(rng, cur.value)), bytes.subarray(off + cur.len)]);
}

function customSection(rng) {
  const name = new TextEncoder().encode(rng.pick(CUSTOM_NAMES));
  let body;
  if (rng.chance(0.5)) {
    // dylink.0-like subsections: id, size, content
    const parts = [];
    for (let i = rng.range(1, 4); i > 0; i--) {
      const content = rng.bytes(rng.range(0, 12));
      parts.push(Uint8Array.of(rng.range(0, 4)), rng.chance(0.8) ? uleb(content.length) : weirdLeb(rng, mutatedU32(rng, content.length)), content);
    }
    body = concat(parts);
  } else body = rng.bytes(rng.pick([0, 1, 5, 64, 4096]));
  return { id: 0, payload: concat([uleb(name.length), name, body]) };
}

/**
 * A type section whose types nest: t0 = u32, t(i) = tuple<t(i-1), t(i-1)>. Printed
 * naively (WIT, glue, errors) it doubles per level.
 */
function typeBombSection(rng) {
  const depth = rng.range(8, 40);
  const types = [Uint8Array.of(0x79)]; // u32 as a defvaltype
  for (let i = 1; i < depth; i++) types.push(concat([Uint8Array.of(0x6f, 0x02), sleb(i - 1), sleb(i - 1)]));
  return { id: 7, payload: concat([uleb(types.length), ...types]) };
}

// Tree-level operators, each mutating a node in place; `donors` are parsed seeds.
const TREE_OPS = {
  'payload-bitflip': (rng, n) => withSection(rng, n, (s) => (s.payload = flipBits(rng, s.payload, rng.range(1, 8)))),
  'payload-insert': (rng, n) => withSection(rng, n, (s) => (s.payload = insertBytes(rng, s.payload))),
  'payload-delete': (rng, n) => withSection(rng, n, (s) => (s.payload = deleteBytes(rng, s.payload))),
  'payload-interesting': (rng, n) => withSection(rng, n, (s) => (s.payload = overwriteInteresting(rng, s.payload))),
  'payload-truncate': (rng, n) => withSection(rng, n, (s) => (s.payload = s.payload.subarray(0, rng.int(s.payload.length + 1)))),
  'section-size': (rng, n) =>
    withSection(rng, n, (s) => {
      const len = s.child ? encode(s.child).length : s.payload.length;
      s.sizeBytes = weirdLeb(rng, mutatedU32(rng, len));
    }, true),
  'leb-count': (rng, n) => withSection(rng, n, (s) => (s.payload = corruptLebAt(rng, s.payload, 0))),
  'leb-random': (rng, n) => withSection(rng, n, (s) => (s.payload = corruptLebAt(rng, s.payload, rng.int(Math.max(1, s.payload.length))))),
  'section-drop': (rng, n) => n.sections.length && n.sections.splice(rng.int(n.sections.length), 1),
  'section-duplicate': (rng, n) => {
    if (!n.sections.length) return;
    const s = rng.pick(n.sections);
    n.sections.splice(rng.int(n.sections.length + 1), 0, ...Array(rng.pick([1, 1, 2, 50])).fill(s));
  },
  'section-swap': (rng, n) => {
    if (n.sections.length < 2) return;
    const i = rng.int(n.sections.length);
    const j = rng.int(n.sections.length);
    [n.sections[i], n.sections[j]] = [n.sections[j], n.sections[i]];
  },
  'section-splice': (rng, n, donors) => {
    // a section from another component, from a binary of the same kind (component or core)
    const pool = donors.flatMap((d) => nodes(d)).filter((d) => d.component === n.component && d.sections.length);
    if (!pool.length) return;
    const s = rng.pick(rng.pick(pool).sections);
    if (rng.chance(0.5) && n.sections.length) n.sections[rng.int(n.sections.length)] = s;
    else n.sections.splice(rng.int(n.sections.length + 1), 0, s);
  },
  'custom-section': (rng, n) => n.sections.splice(rng.int(n.sections.length + 1), 0, customSection(rng)),
  // at the end, so no existing type index moves; or as a nested component exporting its deepest type
  'type-bomb': (rng, n) => {
    if (!n.component) return;
    const types = typeBombSection(rng);
    if (rng.chance(0.5)) return n.sections.push(types);
    const count = readUleb(types.payload, 0).value;
    const name = new TextEncoder().encode('t');
    const exp = { id: 11, payload: concat([uleb(1), Uint8Array.of(0x00), uleb(name.length), name, Uint8Array.of(0x03), uleb(count - 1), Uint8Array.of(0x00)]) };
    n.sections.push({ id: 4, payload: new Uint8Array(), child: { header: concat([Uint8Array.of(0, 0x61, 0x73, 0x6d), Uint8Array.from(COMPONENT_VERSION)]), component: true, sections: [types, exp] } });
  },
  'header': (rng, n) => {
    n.header = n.header.slice();
    n.header[rng.range(4, 7)] = rng.pick([0x00, 0x01, 0x0a, 0x0c, 0x0d, 0x0e, 0xff]);
  },
};

function withSection(rng, node, fn, anySection = false) {
  const candidates = node.sections.filter((s) => anySection || !s.child);
  if (candidates.length) fn(rng.pick(candidates));
}

// Raw operators on the whole file: structure-blind, as a corrupted download would be.
const RAW_OPS = {
  'bitflip': (rng, b) => flipBits(rng, b, rng.range(1, 16)),
  'insert': (rng, b) => insertBytes(rng, b),
  'delete': (rng, b) => deleteBytes(rng, b),
  'truncate': (rng, b) => b.subarray(0, rng.int(b.length)),
  'append': (rng, b) => concat([b, rng.bytes(rng.range(1, 64))]),
};

/** Mutate `seed` bytes: 1–3 operators, mostly structure-aware. Returns bytes and the operator names. */
export function mutateComponent(rng, seed, donors) {
  const ops = [];
  let bytes = seed;
  for (let k = rng.weighted([[6, 1], [3, 2], [1, 3]]); k > 0; k--) {
    const tree = parse(bytes);
    if (tree && rng.chance(0.8)) {
      const name = rng.pick(Object.keys(TREE_OPS));
      const all = nodes(tree);
      // prefer nested binaries: that is where the core code and types are
      const node = all.length > 1 && rng.chance(0.6) ? rng.pick(all.slice(1)) : all[0];
      TREE_OPS[name](rng, node, donors);
      bytes = encode(tree);
      ops.push(name);
    } else {
      const name = rng.pick(Object.keys(RAW_OPS));
      bytes = RAW_OPS[name](rng, bytes);
      ops.push(`raw-${name}`);
    }
  }
  return { bytes, ops };
}

/** Valid bytes with a new digest (a custom section with a nonce): forces a fresh transpile. */
export function withNonce(bytes, nonce) {
  const tree = parse(bytes);
  const name = new TextEncoder().encode('capsule-fuzz-nonce');
  const body = new TextEncoder().encode(String(nonce));
  tree.sections.push({ id: 0, payload: concat([uleb(name.length), name, body]) });
  return encode(tree);
}
