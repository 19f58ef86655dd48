/* libFuzzer target: a console keystroke stream as a network session (or
 * the serial line, without the telnet layer) delivers it: telnet option
 * negotiation stripped (net/telnet.c), the line editor with its escape
 * sequences and history (core/lineedit.c), and each finished line split
 * into commands (core/command_split.c). Input: one byte choosing telnet or
 * raw and the chunk size, then the bytes, fed in chunks as TCP segments
 * arrive. Besides the sanitizers it checks what the console relies on:
 * telnet output within its buffers, the editor's cursor within its line
 * and the line terminated, finished lines at most LINEEDIT_MAX bytes, and
 * the splitter moving forward with terminated commands. */
/* clang-format off */
/* fuzz-srcs: net/telnet.c core/lineedit.c core/command_split.c */
/* clang-format on */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/command_split.h"
#include "core/lineedit.h"
#include "net/telnet.h"
#include "tests/fuzz/fuzz_input.h"

static size_t echoed;

static void term_write(void *ctx, const char *s, size_t n)
{
    (void)ctx;
    /* Read every byte: ASan checks the editor hands over real memory. */
    for (size_t i = 0; i < n; i++)
        echoed += (unsigned char)s[i] != 0xff;
}

static void check_editor(const struct lineedit *le)
{
    FUZZ_CHECK(le->len <= LINEEDIT_MAX && le->cursor <= le->len);
    FUZZ_CHECK(le->hist_count <= LINEEDIT_HISTORY && le->hist_next < LINEEDIT_HISTORY);
    FUZZ_CHECK(le->hist_pos >= -1 && le->hist_pos < (int)le->hist_count);
}

static void split(const char *line)
{
    const char *pos = line, *end = line + strlen(line);
    char cmd[LINEEDIT_MAX + 1];
    for (;;) {
        const char *before = pos;
        enum command_split_result r = command_split_next(&pos, end, cmd, sizeof(cmd));
        if (r == SPLIT_END)
            break;
        FUZZ_CHECK(pos > before && pos <= end);
        if (r == SPLIT_COMMAND)
            FUZZ_CHECK(memchr(cmd, '\0', sizeof(cmd)) && strlen(cmd) <= (size_t)(pos - before));
    }
    /* A buffer too small for most commands: skipped, never overrun. */
    pos = line;
    char tiny[4];
    enum command_split_result r;
    while ((r = command_split_next(&pos, end, tiny, sizeof(tiny))) != SPLIT_END)
        if (r == SPLIT_COMMAND)
            FUZZ_CHECK(memchr(tiny, '\0', sizeof(tiny)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct lineedit le;
    static struct telnet tn;
    struct fuzz_input in = {data, size, 0};
    uint8_t mode = fuzz_u8(&in);
    bool use_telnet = mode & 1;
    size_t chunk = 1 + (mode >> 1); /* 1-128 bytes a segment */

    lineedit_init(&le, term_write, NULL);
    telnet_init(&tn);
    while (fuzz_left(&in)) {
        size_t n = fuzz_left(&in) < chunk ? fuzz_left(&in) : chunk;
        /* Private copies: reads past the segment hit ASan's redzone. */
        uint8_t *seg = malloc(n), *bytes = malloc(n), *reply = malloc(3 * n);
        if (!seg || !bytes || !reply) {
            free(seg), free(bytes), free(reply);
            return 0;
        }
        memcpy(seg, data + in.pos, n);
        in.pos += n;
        size_t m = n, reply_len = 0;
        if (use_telnet) {
            m = telnet_filter(&tn, seg, n, bytes, reply, &reply_len);
            FUZZ_CHECK(m <= n && reply_len <= 3 * n);
        } else {
            memcpy(bytes, seg, n);
        }
        for (size_t i = 0; i < m; i++) {
            enum lineedit_event e = lineedit_feed(&le, (char)bytes[i]);
            check_editor(&le);
            if (e == LE_LINE) {
                const char *line = lineedit_line(&le);
                FUZZ_CHECK(memchr(line, '\0', LINEEDIT_MAX + 1));
                split(line);
            }
        }
        if (seg[0] & 1) { /* other output now and then, as the console does */
            lineedit_hide(&le);
            lineedit_redraw(&le, "bulkhead> ");
        }
        free(seg), free(bytes), free(reply);
    }
    return 0;
}
