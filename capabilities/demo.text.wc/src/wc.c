/*
 * demo.text.wc: a `wc`-like WASI command (world wasi:cli/command).
 *
 *   printf 'a b\nc\n' | wc           ->  "2 3 6\n"                         (lines words bytes)
 *   printf 'a b\nc\n' | wc --json    ->  {"lines":2,"words":3,"bytes":6}\n
 *
 * As in POSIX wc: lines counts "\n" bytes, words counts maximal runs of bytes
 * that are not ASCII white space (the C locale), bytes counts bytes. Always
 * exits 0 unless reading stdin fails.
 *
 * Built by `npm run build:capabilities` (src/authoring/c.ts, buildC kind
 * "command"): clang --target=wasm32-wasi against wasi-libc, then componentNew
 * with jco's wasi_snapshot_preview1 command adapter.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int is_space(unsigned char c) {
    return c == ' ' || (c >= '\t' && c <= '\r'); /* \t \n \v \f \r */
}

int main(int argc, char **argv) {
    int json = 0;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--json") == 0) json = 1;

    /* 64-bit counters: stdin is a stream and may exceed 4 GiB. */
    unsigned long long lines = 0, words = 0, bytes = 0;
    int in_word = 0;
    static unsigned char buf[64 * 1024];
    for (;;) {
        ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
        if (n == 0) break;
        if (n < 0) { perror("wc: stdin"); return 1; }
        bytes += (unsigned long long)n;
        for (ssize_t i = 0; i < n; i++) {
            int space = is_space(buf[i]);
            if (buf[i] == '\n') lines++;
            if (!space && !in_word) words++;
            in_word = !space;
        }
    }

    if (json)
        printf("{\"lines\":%llu,\"words\":%llu,\"bytes\":%llu}\n", lines, words, bytes);
    else
        printf("%llu %llu %llu\n", lines, words, bytes);
    return 0;
}
