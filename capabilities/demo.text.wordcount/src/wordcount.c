/*
 * demo.text.wordcount: a pure capability (world capsule:host/pure-capability).
 *
 *   run('{"text":"a b  c"}')  ->  ok('{"words":3,"lines":1,"chars":6}')
 *
 *   chars  Unicode code points of the decoded string
 *   lines  number of "\n", plus 1 if the text is non-empty and does not end in "\n"
 *   words  maximal runs of code points that are not Unicode White_Space
 *
 * Input that is not JSON gives err("invalid JSON at byte N"); JSON that is not an
 * object with a string "text" gives err('expected {"text": string}'). As with
 * JSON.parse, a repeated key means the last one wins. Nesting deeper than
 * MAX_DEPTH (128) is reported as invalid JSON rather than risking the stack.
 *
 * Built by `npm run build:capabilities` (src/authoring/c.ts, buildC kind
 * "pure-capability"): clang --target=wasm32 -ffreestanding -nostdlib, so there
 * is no libc and the module imports nothing; the WIT world is then embedded and
 * wrapped with componentNew. Because there is no wit-bindgen, the canonical ABI
 * glue (cabi_realloc, the result record, cabi_post_run) is written by hand below.
 */
#include <stddef.h>
#include <stdint.h>

#define EXPORT(name) __attribute__((export_name(name)))

/* ---------------------------------------------------------------------------
 * Memory. The host copies the input string in through cabi_realloc before
 * calling run. A bump allocator is enough: everything allocated during a call
 * is dead once the host has copied the result out, so cabi_post_run rewinds
 * it, which keeps memory flat even if the host reuses an instance.
 */

extern unsigned char __heap_base; /* first byte after data + stack, from wasm-ld */

static uintptr_t heap_top;        /* 0 until the first allocation */

static void *bump_alloc(size_t align, size_t size) {
    if (heap_top == 0) heap_top = (uintptr_t)&__heap_base;
    if (align == 0 || (align & (align - 1)) != 0) __builtin_trap();
    /* 64-bit arithmetic: a 4 GiB memory's byte size does not fit in 32 bits. */
    uint64_t start = ((uint64_t)heap_top + align - 1) & ~(uint64_t)(align - 1);
    uint64_t end = start + size;
    uint64_t have = (uint64_t)__builtin_wasm_memory_size(0) << 16;
    if (end > have) {
        uint64_t pages = (end - have + 0xFFFF) >> 16;
        if (end > ((uint64_t)1 << 32) ||
            __builtin_wasm_memory_grow(0, (size_t)pages) == (size_t)-1)
            __builtin_trap(); /* the canonical ABI has no way to report OOM */
    }
    heap_top = (uintptr_t)end;
    return (void *)(uintptr_t)start;
}

EXPORT("cabi_realloc")
void *cabi_realloc(void *old_ptr, size_t old_size, size_t align, size_t new_size) {
    if (old_ptr != NULL && new_size <= old_size) return old_ptr;
    unsigned char *p = bump_alloc(align, new_size);
    /* A plain loop: -ffreestanding stops clang turning it into a memcpy call. */
    for (size_t i = 0; old_ptr != NULL && i < old_size; i++)
        p[i] = ((const unsigned char *)old_ptr)[i];
    return p;
}

EXPORT("cabi_post_run")
void cabi_post_run(void *ret) {
    (void)ret;
    heap_top = 0; /* the host has copied the result; free the whole call */
}

/* ---------------------------------------------------------------------------
 * Result: the lowered result<string, string> is returned through a pointer to
 * [tag u8 @0 (0 ok, 1 err), padding, ptr i32 @4, len i32 @8]. The strings it
 * points at live in static buffers; the host copies them before the next call.
 */

static struct {
    uint8_t tag;
    const char *ptr;
    uint32_t len;
} ret_area;

_Static_assert(sizeof(ret_area) == 12, "canonical ABI layout of result<string, string>");

static char out_buf[64]; /* three u32 in decimal plus the keys: at most 62 bytes */

static uint32_t str_len(const char *s) {
    uint32_t n = 0;
    while (s[n]) n++;
    return n;
}

static char *put_str(char *dst, const char *s) {
    while (*s) *dst++ = *s++;
    return dst;
}

static char *put_u32(char *dst, uint32_t v) {
    char tmp[10];
    int n = 0;
    do { tmp[n++] = (char)('0' + v % 10); v /= 10; } while (v);
    while (n) *dst++ = tmp[--n];
    return dst;
}

static void *set_result(uint8_t tag, const char *s, uint32_t len) {
    ret_area.tag = tag;
    ret_area.ptr = s;
    ret_area.len = len;
    return &ret_area;
}

/* ---------------------------------------------------------------------------
 * JSON. A small validating recursive-descent reader over the input bytes.
 * Strings are decoded one code point at a time, so the "text" value is counted
 * while it is decoded and nothing is copied.
 */

typedef struct {
    const uint8_t *start, *p, *end;
    int failed;                   /* sticky: first syntax error wins */
    const uint8_t *fail_at;
} Reader;

enum { STR_CP, STR_END, STR_ERR };

#define MAX_DEPTH 128             /* bounds recursion on [[[[...; the stack is 64 KiB */

static int fail(Reader *r) {
    if (!r->failed) { r->failed = 1; r->fail_at = r->p; }
    return 0;
}

static void skip_ws(Reader *r) {
    while (r->p < r->end &&
           (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
        r->p++;
}

static int hex4(const uint8_t *s, uint32_t *out) {
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        uint8_t c = s[i];
        uint32_t d;
        if (c >= '0' && c <= '9') d = c - '0';
        else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
        else return 0;
        v = v << 4 | d;
    }
    *out = v;
    return 1;
}

/*
 * Next code point of a string whose opening quote has been consumed.
 * A lone surrogate escape (valid JSON, but not a Unicode scalar value) decodes
 * to U+FFFD, which is what the host would see after a UTF-8 round trip.
 */
static int str_next(Reader *r, uint32_t *cp) {
    if (r->p >= r->end) return fail(r), STR_ERR;
    uint8_t c = *r->p;
    if (c == '"') { r->p++; return STR_END; }
    if (c < 0x20) return fail(r), STR_ERR;      /* raw control characters are not JSON */
    if (c != '\\') {
        r->p++;
        if (c < 0x80) { *cp = c; return STR_CP; }
        /* The canonical ABI guarantees valid UTF-8; only the length matters. */
        int more = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : 1;
        uint32_t v = c & (0x3F >> more);
        for (int i = 0; i < more; i++) {
            if (r->p >= r->end || (*r->p & 0xC0) != 0x80) return fail(r), STR_ERR;
            v = v << 6 | (*r->p++ & 0x3F);
        }
        *cp = v;
        return STR_CP;
    }
    if (r->end - r->p < 2) return fail(r), STR_ERR;
    switch (r->p[1]) {
    case '"': case '\\': case '/': *cp = r->p[1]; r->p += 2; return STR_CP;
    case 'b': *cp = '\b'; r->p += 2; return STR_CP;
    case 'f': *cp = '\f'; r->p += 2; return STR_CP;
    case 'n': *cp = '\n'; r->p += 2; return STR_CP;
    case 'r': *cp = '\r'; r->p += 2; return STR_CP;
    case 't': *cp = '\t'; r->p += 2; return STR_CP;
    case 'u': break;
    default: r->p++; return fail(r), STR_ERR;
    }
    uint32_t u, lo;
    if (r->end - r->p < 6 || !hex4(r->p + 2, &u)) return fail(r), STR_ERR;
    r->p += 6;
    if (u >= 0xD800 && u <= 0xDBFF) {
        /* Pair only with an immediately following low-surrogate escape. */
        if (r->end - r->p >= 6 && r->p[0] == '\\' && r->p[1] == 'u' &&
            hex4(r->p + 2, &lo) && lo >= 0xDC00 && lo <= 0xDFFF) {
            r->p += 6;
            *cp = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
        } else {
            *cp = 0xFFFD;
        }
    } else if (u >= 0xDC00 && u <= 0xDFFF) {
        *cp = 0xFFFD;
    } else {
        *cp = u;
    }
    return STR_CP;
}

/* Consume the rest of a string (opening quote already consumed). */
static int skip_string(Reader *r) {
    uint32_t cp;
    int s;
    while ((s = str_next(r, &cp)) == STR_CP) {}
    return s == STR_END;
}

static int is_digit(uint8_t c) { return c >= '0' && c <= '9'; }

static int skip_digits(Reader *r) {
    if (r->p >= r->end || !is_digit(*r->p)) return fail(r);
    while (r->p < r->end && is_digit(*r->p)) r->p++;
    return 1;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int skip_number(Reader *r) {
    if (r->p < r->end && *r->p == '-') r->p++;
    if (r->p < r->end && *r->p == '0') r->p++;
    else if (!skip_digits(r)) return 0;
    if (r->p < r->end && *r->p == '.') { r->p++; if (!skip_digits(r)) return 0; }
    if (r->p < r->end && (*r->p == 'e' || *r->p == 'E')) {
        r->p++;
        if (r->p < r->end && (*r->p == '+' || *r->p == '-')) r->p++;
        if (!skip_digits(r)) return 0;
    }
    return 1;
}

static int skip_literal(Reader *r, const char *word) {
    for (; *word; word++, r->p++)
        if (r->p >= r->end || *r->p != (uint8_t)*word) return fail(r);
    return 1;
}

static int expect(Reader *r, uint8_t c) {
    skip_ws(r);
    if (r->p >= r->end || *r->p != c) return fail(r);
    r->p++;
    return 1;
}

static int skip_value(Reader *r, int depth);

/* After '{' or '['; `close` is the matching bracket. Objects want "key": pairs. */
static int skip_container(Reader *r, uint8_t close, int depth) {
    if (depth > MAX_DEPTH) return fail(r);
    skip_ws(r);
    if (r->p < r->end && *r->p == close) { r->p++; return 1; }
    for (;;) {
        if (close == '}') {
            if (!expect(r, '"') || !skip_string(r) || !expect(r, ':')) return 0;
        }
        if (!skip_value(r, depth + 1)) return 0;
        skip_ws(r);
        if (r->p < r->end && *r->p == ',') { r->p++; continue; }
        return expect(r, close);
    }
}

static int skip_value(Reader *r, int depth) {
    skip_ws(r);
    if (r->p >= r->end) return fail(r);
    switch (*r->p) {
    case '{': r->p++; return skip_container(r, '}', depth);
    case '[': r->p++; return skip_container(r, ']', depth);
    case '"': r->p++; return skip_string(r);
    case 't': return skip_literal(r, "true");
    case 'f': return skip_literal(r, "false");
    case 'n': return skip_literal(r, "null");
    default:  return skip_number(r);
    }
}

/* ---------------------------------------------------------------------------
 * Counting.
 */

typedef struct {
    uint32_t words, newlines, chars, last;
    int in_word;
} Counts;

/* Unicode White_Space (PropList.txt); wider than ASCII isspace on purpose. */
static int is_white_space(uint32_t c) {
    return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 ||
           c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 ||
           c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

static void count_cp(Counts *k, uint32_t cp) {
    int space = is_white_space(cp);
    k->chars++;
    if (cp == '\n') k->newlines++;
    if (!space && !k->in_word) k->words++;
    k->in_word = !space;
    k->last = cp;
}

/* Is the next string (opening quote consumed) exactly "text", after unescaping? */
static int key_is_text(Reader *r, int *ok) {
    static const char want[] = "text";
    uint32_t cp;
    int s, i = 0, match = 1;
    while ((s = str_next(r, &cp)) == STR_CP) {
        if (i < 4 && cp == (uint32_t)want[i]) i++;
        else match = 0;
    }
    *ok = s == STR_END;
    return match && i == 4;
}

/* ---------------------------------------------------------------------------
 * The export.
 */

static const char SHAPE_ERROR[] = "expected {\"text\": string}";

EXPORT("run")
void *run(const uint8_t *input, uint32_t len) {
    Reader r = { input, input, input + len, 0, 0 };
    Counts k = { 0 };
    enum { NO_TEXT, TEXT_STRING, TEXT_OTHER } text = NO_TEXT;
    int is_object = 0;

    skip_ws(&r);
    if (r.p < r.end && *r.p == '{') {
        is_object = 1;
        r.p++;
        skip_ws(&r);
        if (r.p < r.end && *r.p == '}') {
            r.p++;
        } else {
            for (;;) {
                int ok;
                if (!expect(&r, '"')) break;
                int is_text = key_is_text(&r, &ok);
                if (!ok || !expect(&r, ':')) break;
                skip_ws(&r);
                if (is_text && r.p < r.end && *r.p == '"') {
                    Counts fresh = { 0 };
                    uint32_t cp;
                    int s;
                    k = fresh; /* a repeated "text" replaces the earlier one */
                    r.p++;
                    while ((s = str_next(&r, &cp)) == STR_CP) count_cp(&k, cp);
                    if (s != STR_END) break;
                    text = TEXT_STRING;
                } else {
                    if (!skip_value(&r, 1)) break;
                    if (is_text) text = TEXT_OTHER;
                }
                skip_ws(&r);
                if (r.p < r.end && *r.p == ',') { r.p++; continue; }
                expect(&r, '}');
                break;
            }
        }
    } else {
        skip_value(&r, 0); /* still validate, so garbage says "invalid JSON" */
    }
    skip_ws(&r);
    if (!r.failed && r.p != r.end) fail(&r); /* trailing bytes after the value */

    if (r.failed) {
        char *e = put_str(out_buf, "invalid JSON at byte ");
        e = put_u32(e, (uint32_t)(r.fail_at - r.start));
        return set_result(1, out_buf, (uint32_t)(e - out_buf));
    }
    if (!is_object || text != TEXT_STRING)
        return set_result(1, SHAPE_ERROR, str_len(SHAPE_ERROR));

    uint32_t lines = k.newlines + (k.chars > 0 && k.last != '\n');
    char *o = put_str(out_buf, "{\"words\":");
    o = put_u32(o, k.words);
    o = put_str(o, ",\"lines\":");
    o = put_u32(o, lines);
    o = put_str(o, ",\"chars\":");
    o = put_u32(o, k.chars);
    o = put_str(o, "}");
    return set_result(0, out_buf, (uint32_t)(o - out_buf));
}
