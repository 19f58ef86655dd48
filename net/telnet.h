/* The telnet side of the network console: strips IAC sequences from what
 * the client sends and answers option negotiation, so that `telnet` (which
 * negotiates) and `nc` (which does not) both reach the line editor with
 * plain bytes. Pure logic: bytes in, data and replies out. */
#ifndef NET_TELNET_H
#define NET_TELNET_H

#include <stddef.h>
#include <stdint.h>

#define TELNET_IAC  255
#define TELNET_DONT 254
#define TELNET_DO   253
#define TELNET_WONT 252
#define TELNET_WILL 251
#define TELNET_SB   250
#define TELNET_SE   240

#define TELNET_OPT_ECHO 1
#define TELNET_OPT_SGA  3
/* A subnegotiation longer than this is garbage (real ones, window size or
 * terminal type, are a few bytes): the filter goes back to data, so that a
 * stray IAC SB cannot swallow all later input. */
#define TELNET_SB_MAX 64

/* What the server says at connect: it echoes (the client stops echoing
 * locally, so a password stays hidden) and suppresses go-ahead (the client
 * sends each key, not whole lines). */
#define TELNET_GREETING "\xff\xfb\x01\xff\xfb\x03"

struct telnet {
    unsigned state;
    uint8_t opt_cmd;
    unsigned sb_len;      /* bytes of the subnegotiation so far */
    uint8_t last;         /* to fold CR NUL and CR LF */
    uint8_t answered[32]; /* options answered once (bit per option): no loops */
};

void telnet_init(struct telnet *t);
/* Filters in[0..n): plain data goes to data (at most n bytes), replies to
 * reply (at most 3 bytes per input byte: size it 3 * n). Returns the data
 * length; *reply_len receives the reply length. */
size_t telnet_filter(struct telnet *t, const uint8_t *in, size_t n, uint8_t *data, uint8_t *reply,
                     size_t *reply_len);

#endif
