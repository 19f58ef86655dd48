#include "net/telnet.h"

#include <stdbool.h>

enum { T_DATA, T_IAC, T_OPT, T_SB, T_SB_IAC };

void telnet_init(struct telnet *t)
{
    *t = (struct telnet){0};
}

static bool seen(struct telnet *t, uint8_t cmd, uint8_t opt)
{
    /* DO/DONT share one bit, WILL/WONT the other half: answer each once. */
    unsigned bit = opt % 128 + ((cmd == TELNET_WILL || cmd == TELNET_WONT) ? 128 : 0);
    bool was = t->answered[bit / 8] & (1u << (bit % 8));
    t->answered[bit / 8] |= (uint8_t)(1u << (bit % 8));
    return was;
}

/* We will ECHO and SGA (said at connect); we will do nothing else, and we
 * want the client to do nothing but SGA. */
static size_t answer(struct telnet *t, uint8_t cmd, uint8_t opt, uint8_t *r)
{
    bool ours = opt == TELNET_OPT_ECHO || opt == TELNET_OPT_SGA;
    uint8_t reply = 0;
    if (cmd == TELNET_DO && !ours)
        reply = TELNET_WONT;
    else if (cmd == TELNET_WILL)
        reply = opt == TELNET_OPT_SGA ? TELNET_DO : TELNET_DONT;
    if (!reply || seen(t, cmd, opt))
        return 0;
    r[0] = TELNET_IAC;
    r[1] = reply;
    r[2] = opt;
    return 3;
}

size_t telnet_filter(struct telnet *t, const uint8_t *in, size_t n, uint8_t *data, uint8_t *reply,
                     size_t *reply_len)
{
    size_t d = 0, r = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = in[i];
        switch (t->state) {
        case T_DATA:
            if (c == TELNET_IAC) {
                t->state = T_IAC;
                continue;
            }
            /* CR NUL and CR LF are one Enter (the line editor folds CR LF too,
             * but NUL would reach it as a key). */
            if (c == 0 && t->last == '\r') {
                t->last = 0;
                continue;
            }
            t->last = c;
            data[d++] = c;
            break;
        case T_IAC:
            t->state = T_DATA;
            if (c == TELNET_IAC) { /* an escaped 255 data byte */
                data[d++] = c;
                t->last = c;
            } else if (c >= TELNET_WILL && c <= TELNET_DONT) {
                t->opt_cmd = c;
                t->state = T_OPT;
            } else if (c == TELNET_SB) {
                t->state = T_SB;
                t->sb_len = 0;
            } /* NOP, GA, AYT, break...: dropped */
            break;
        case T_OPT:
            r += answer(t, t->opt_cmd, c, reply + r);
            t->state = T_DATA;
            break;
        case T_SB: /* subnegotiation: skipped up to IAC SE, or TELNET_SB_MAX bytes */
            if (c == TELNET_IAC)
                t->state = T_SB_IAC;
            else if (++t->sb_len > TELNET_SB_MAX)
                t->state = T_DATA;
            break;
        case T_SB_IAC:
            t->state = c == TELNET_SE ? T_DATA : T_SB;
            break;
        }
    }
    *reply_len = r;
    return d;
}
