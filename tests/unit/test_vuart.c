/* The 16550 model: transmit line assembly, registers drivers probe (as
 * Linux's 8250 autoconfig does), receive FIFO, interrupts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vdev/vuart.h"

enum {
    RBR = 0,
    THR = 0,
    DLL = 0,
    IER = 1,
    DLM = 1,
    IIR = 2,
    FCR = 2,
    LCR = 3,
    MCR = 4,
    LSR = 5,
    MSR = 6,
    SCR = 7
};

/* Captured output lines. */
static char lines[16][VUART_LINE_MAX + 1];
static unsigned line_lens[16];
static unsigned nr_lines;
static void *seen_ctx;

static void capture(void *ctx, const char *line, unsigned len)
{
    assert_true(nr_lines < 16);
    assert_true(len > 0 && len <= VUART_LINE_MAX);
    memcpy(lines[nr_lines], line, len);
    lines[nr_lines][len] = '\0';
    line_lens[nr_lines++] = len;
    seen_ctx = ctx;
}

static struct vuart u;
static int ctx_token;

static int setup(void **state)
{
    memset(lines, 0, sizeof(lines));
    nr_lines = 0;
    seen_ctx = NULL;
    vuart_init(&u, 0x3f8, capture, &ctx_token);
    return 0;
}

static void send(const char *s)
{
    while (*s)
        vuart_write(&u, THR, (uint8_t)*s++);
}

static void test_init(void **state)
{
    assert_int_equal(u.base, 0x3f8);
    assert_int_equal(vuart_read(&u, LSR), 0x60); /* THRE | TEMT, no data */
    assert_int_equal(vuart_read(&u, IER), 0);
    assert_int_equal(vuart_read(&u, IIR), 0x01); /* no interrupt, FIFOs off */
    assert_int_equal(vuart_read(&u, LCR), 0);
    assert_int_equal(vuart_read(&u, MCR), 0);
    assert_false(vuart_irq_pending(&u));
    /* Divisor 1 (115200) until the guest changes it. */
    vuart_write(&u, LCR, 0x80);
    assert_int_equal(vuart_read(&u, DLL), 1);
    assert_int_equal(vuart_read(&u, DLM), 0);
}

static void test_tx_line(void **state)
{
    send("hello");
    assert_int_equal(nr_lines, 0); /* nothing until the newline */
    send(" world\r\n");
    assert_int_equal(nr_lines, 1);
    assert_string_equal(lines[0], "hello world");
    assert_int_equal(line_lens[0], 11);
    assert_ptr_equal(seen_ctx, &ctx_token);
    send("second\n");
    assert_int_equal(nr_lines, 2);
    assert_string_equal(lines[1], "second");
    /* LSR stays THRE|TEMT: the transmitter is always ready. */
    assert_int_equal(vuart_read(&u, LSR) & 0x60, 0x60);
}

static void test_tx_cr_dropped(void **state)
{
    send("a\rb\r\r\nc\r");
    assert_int_equal(nr_lines, 1);
    assert_string_equal(lines[0], "ab");
    vuart_flush(&u);
    assert_int_equal(nr_lines, 2);
    assert_string_equal(lines[1], "c");
}

static void test_tx_empty_lines_dropped(void **state)
{
    /* An empty line produces no output call (current behaviour). */
    send("\n\r\n\n");
    assert_int_equal(nr_lines, 0);
    vuart_flush(&u);
    assert_int_equal(nr_lines, 0);
}

static void test_tx_control_chars(void **state)
{
    /* ESC sequences, BEL, backspace, NUL and DEL must not reach the host
     * terminal; tab is kept. */
    const uint8_t in[] = {'x', 0x1b, '[', '2', 'J', 0x07, 0x08, 0x00, '\t', 0x7f, 'y', 0x1f, '\n'};
    for (size_t i = 0; i < sizeof(in); i++)
        vuart_write(&u, THR, in[i]);
    assert_int_equal(nr_lines, 1);
    assert_int_equal(line_lens[0], 12);
    assert_memory_equal(lines[0], "x.[2J...\t.y.", 12);
    /* Printable ASCII is untouched. */
    char all[96];
    for (int c = 0x20; c < 0x7f; c++)
        all[c - 0x20] = (char)c;
    all[0x5f] = '\0';
    send(all);
    send("\n");
    assert_int_equal(nr_lines, 2);
    assert_string_equal(lines[1], all);
}

static void test_tx_long_line_split(void **state)
{
    char big[VUART_LINE_MAX * 2 + 11];
    for (size_t i = 0; i < sizeof(big) - 1; i++)
        big[i] = (char)('a' + i % 26);
    big[sizeof(big) - 1] = '\0';
    send(big);
    /* Two full chunks emitted as soon as they fill. */
    assert_int_equal(nr_lines, 2);
    assert_int_equal(line_lens[0], VUART_LINE_MAX);
    assert_int_equal(line_lens[1], VUART_LINE_MAX);
    assert_memory_equal(lines[0], big, VUART_LINE_MAX);
    assert_memory_equal(lines[1], big + VUART_LINE_MAX, VUART_LINE_MAX);
    send("\n");
    assert_int_equal(nr_lines, 3);
    assert_int_equal(line_lens[2], 10);
    assert_memory_equal(lines[2], big + 2 * VUART_LINE_MAX, 10);
}

static void test_tx_exact_line_max(void **state)
{
    char s[VUART_LINE_MAX + 1];
    memset(s, 'q', VUART_LINE_MAX);
    s[VUART_LINE_MAX] = '\0';
    send(s);
    assert_int_equal(nr_lines, 1);
    send("\n"); /* the newline after a full chunk adds no empty line */
    assert_int_equal(nr_lines, 1);
}

static void test_tx_no_output_callback(void **state)
{
    vuart_init(&u, 0x2f8, NULL, NULL);
    send("lost\n");
    send("partial");
    vuart_flush(&u);
    assert_int_equal(nr_lines, 0);
}

static void test_flush(void **state)
{
    send("partial");
    vuart_flush(&u);
    assert_int_equal(nr_lines, 1);
    assert_string_equal(lines[0], "partial");
    vuart_flush(&u); /* nothing left */
    assert_int_equal(nr_lines, 1);
}

static void test_dlab(void **state)
{
    vuart_write(&u, IER, 0x05);
    vuart_write(&u, LCR, 0x83); /* DLAB + 8N1 */
    assert_int_equal(vuart_read(&u, LCR), 0x83);
    vuart_write(&u, DLL, 0x0c); /* 9600 */
    vuart_write(&u, DLM, 0x00);
    assert_int_equal(vuart_read(&u, DLL), 0x0c);
    assert_int_equal(vuart_read(&u, DLM), 0x00);
    vuart_write(&u, DLM, 0x12);
    assert_int_equal(vuart_read(&u, DLM), 0x12);
    /* Divisor writes are not data and do not touch IER. */
    assert_int_equal(nr_lines, 0);
    assert_int_equal(u.line_len, 0);
    vuart_write(&u, LCR, 0x03);
    assert_int_equal(vuart_read(&u, IER), 0x05);
    assert_int_equal(u.dll, 0x0c);
    assert_int_equal(u.dlm, 0x12);
    /* With DLAB clear, offset 0 is data again. */
    send("z\n");
    assert_int_equal(nr_lines, 1);
    assert_string_equal(lines[0], "z");
    /* RBR read under DLAB returns the divisor and leaves the FIFO alone. */
    assert_true(vuart_push_rx(&u, 'k'));
    vuart_write(&u, LCR, 0x80);
    assert_int_equal(vuart_read(&u, RBR), 0x0c);
    vuart_write(&u, LCR, 0x00);
    assert_int_equal(vuart_read(&u, RBR), 'k');
}

static void test_ier_mask(void **state)
{
    /* Linux's autoconfig: IER=0 reads 0, IER=0x0f reads 0x0f. */
    vuart_write(&u, IER, 0);
    assert_int_equal(vuart_read(&u, IER) & 0x0f, 0);
    vuart_write(&u, IER, 0x0f);
    assert_int_equal(vuart_read(&u, IER) & 0x0f, 0x0f);
    vuart_write(&u, IER, 0xff);
    assert_int_equal(vuart_read(&u, IER), 0x0f);
}

static void test_rx_fifo(void **state)
{
    assert_int_equal(vuart_read(&u, LSR) & 0x01, 0);
    assert_int_equal(vuart_read(&u, RBR), 0); /* empty reads 0 */
    for (int i = 0; i < VUART_RX_FIFO; i++)
        assert_true(vuart_push_rx(&u, (uint8_t)('A' + i)));
    assert_false(vuart_push_rx(&u, '!')); /* full */
    assert_int_equal(vuart_read(&u, LSR), 0x61);
    for (int i = 0; i < VUART_RX_FIFO; i++) {
        assert_int_equal(vuart_read(&u, LSR) & 0x01, 1);
        assert_int_equal(vuart_read(&u, RBR), 'A' + i);
    }
    assert_int_equal(vuart_read(&u, LSR), 0x60);
    assert_int_equal(vuart_read(&u, RBR), 0);
    /* Wrap-around of the ring keeps order. */
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 10; i++)
            assert_true(vuart_push_rx(&u, (uint8_t)(round * 10 + i)));
        for (int i = 0; i < 10; i++)
            assert_int_equal(vuart_read(&u, RBR), round * 10 + i);
    }
    /* Received bytes never show up as output. */
    assert_int_equal(nr_lines, 0);
}

static void test_fcr_fifo_bits_and_clear(void **state)
{
    assert_int_equal(vuart_read(&u, IIR) & 0xc0, 0);
    vuart_write(&u, FCR, 0x01);                  /* enable FIFOs */
    assert_int_equal(vuart_read(&u, IIR), 0xc1); /* 16550A: bits 7:6 set */
    assert_int_equal(vuart_read(&u, IIR) >> 6, 3);
    vuart_write(&u, FCR, 0xc7); /* enable, clear both, trigger 14 */
    assert_int_equal(vuart_read(&u, IIR), 0xc1);
    vuart_write(&u, FCR, 0x00);
    assert_int_equal(vuart_read(&u, IIR), 0x01);

    /* Clear RX empties the FIFO. */
    vuart_push_rx(&u, 'a');
    vuart_push_rx(&u, 'b');
    vuart_write(&u, FCR, 0x03);
    assert_int_equal(vuart_read(&u, LSR) & 0x01, 0);
    assert_true(vuart_push_rx(&u, 'c'));
    assert_int_equal(vuart_read(&u, RBR), 'c');
    /* Enable without clear keeps data. */
    vuart_push_rx(&u, 'd');
    vuart_write(&u, FCR, 0x01);
    assert_int_equal(vuart_read(&u, RBR), 'd');
}

static void test_scratch(void **state)
{
    vuart_write(&u, SCR, 0xa5);
    assert_int_equal(vuart_read(&u, SCR), 0xa5);
    vuart_write(&u, SCR, 0x5a);
    assert_int_equal(vuart_read(&u, SCR), 0x5a);
    /* LSR and MSR are read-only. */
    vuart_write(&u, LSR, 0x00);
    assert_int_equal(vuart_read(&u, LSR), 0x60);
    vuart_write(&u, MSR, 0x00);
    assert_int_equal(vuart_read(&u, MSR), 0xb0);
    assert_int_equal(vuart_read(&u, SCR), 0x5a);
}

static void test_loopback_linux_probe(void **state)
{
    /* drivers/tty/serial/8250/8250_port.c autoconfig(): MCR = LOOP | OUT2 |
     * RTS, then MSR & 0xf0 must be DCD | CTS. */
    vuart_write(&u, MCR, 0x10 | 0x08 | 0x02);
    assert_int_equal(vuart_read(&u, MSR) & 0xf0, 0x90);
    /* Each output maps to its input: DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD. */
    vuart_write(&u, MCR, 0x10 | 0x01);
    assert_int_equal(vuart_read(&u, MSR) & 0xf0, 0x20);
    vuart_write(&u, MCR, 0x10 | 0x02);
    assert_int_equal(vuart_read(&u, MSR) & 0xf0, 0x10);
    vuart_write(&u, MCR, 0x10 | 0x04);
    assert_int_equal(vuart_read(&u, MSR) & 0xf0, 0x40);
    vuart_write(&u, MCR, 0x10 | 0x08);
    assert_int_equal(vuart_read(&u, MSR) & 0xf0, 0x80);
    vuart_write(&u, MCR, 0x10);
    assert_int_equal(vuart_read(&u, MSR) & 0xf0, 0x00);
    vuart_write(&u, MCR, 0x1f);
    assert_int_equal(vuart_read(&u, MSR) & 0xf0, 0xf0);
    /* Out of loopback: the modem lines read as a connected terminal. */
    vuart_write(&u, MCR, 0x0b);
    assert_int_equal(vuart_read(&u, MSR), 0xb0);
    /* MCR keeps only bits 4:0. */
    vuart_write(&u, MCR, 0xff);
    assert_int_equal(vuart_read(&u, MCR), 0x1f);
}

static void test_loopback_data(void **state)
{
    /* In loopback, transmitted bytes come back on RBR and are not output. */
    vuart_write(&u, MCR, 0x10);
    send("ok\n");
    assert_int_equal(nr_lines, 0);
    assert_int_equal(vuart_read(&u, LSR) & 0x01, 1);
    assert_int_equal(vuart_read(&u, RBR), 'o');
    assert_int_equal(vuart_read(&u, RBR), 'k');
    assert_int_equal(vuart_read(&u, RBR), '\n');
    assert_int_equal(vuart_read(&u, LSR) & 0x01, 0);
    vuart_write(&u, MCR, 0x00);
    send("out\n");
    assert_int_equal(nr_lines, 1);
    assert_string_equal(lines[0], "out");
}

static void test_thre_interrupt(void **state)
{
    vuart_write(&u, MCR, 0x08); /* OUT2: the line reaches the PIC */
    assert_false(vuart_irq_pending(&u));
    /* Enabling THRI with an empty THR raises it at once. */
    vuart_write(&u, IER, 0x02);
    assert_true(vuart_irq_pending(&u));
    /* Reading IIR reports it once and clears it. */
    assert_int_equal(vuart_read(&u, IIR), 0x02);
    assert_false(vuart_irq_pending(&u));
    assert_int_equal(vuart_read(&u, IIR), 0x01);
    /* Each transmitted byte raises it again. */
    vuart_write(&u, THR, 'x');
    assert_true(vuart_irq_pending(&u));
    assert_int_equal(vuart_read(&u, IIR), 0x02);
    assert_int_equal(vuart_read(&u, IIR), 0x01);
    /* Rewriting IER with THRI still set does not re-raise it. */
    vuart_write(&u, IER, 0x02);
    assert_false(vuart_irq_pending(&u));
    /* Off then on raises it again (Linux's THRE test relies on this). */
    vuart_write(&u, IER, 0x00);
    vuart_write(&u, IER, 0x02);
    assert_true(vuart_irq_pending(&u));
    /* With FIFOs on, IIR carries bits 7:6. */
    vuart_write(&u, FCR, 0x01);
    assert_int_equal(vuart_read(&u, IIR), 0xc2);
    assert_int_equal(vuart_read(&u, IIR), 0xc1);
}

static void test_thre_masked_by_ier(void **state)
{
    vuart_write(&u, MCR, 0x08);
    vuart_write(&u, THR, 'x');
    /* THRI not enabled: no interrupt and IIR reports none. */
    assert_false(vuart_irq_pending(&u));
    assert_int_equal(vuart_read(&u, IIR), 0x01);
}

static void test_rx_interrupt(void **state)
{
    vuart_write(&u, MCR, 0x08);
    vuart_write(&u, IER, 0x01);
    assert_false(vuart_irq_pending(&u));
    assert_int_equal(vuart_read(&u, IIR), 0x01);
    vuart_push_rx(&u, 'r');
    assert_true(vuart_irq_pending(&u));
    assert_int_equal(vuart_read(&u, IIR), 0x04);
    assert_int_equal(vuart_read(&u, IIR), 0x04); /* level: until the data is read */
    assert_int_equal(vuart_read(&u, RBR), 'r');
    assert_false(vuart_irq_pending(&u));
    assert_int_equal(vuart_read(&u, IIR), 0x01);
}

static void test_irq_priority(void **state)
{
    /* Received data outranks THRE; THRE stays pending behind it. */
    vuart_write(&u, MCR, 0x08);
    vuart_write(&u, IER, 0x03);
    vuart_push_rx(&u, 'r');
    assert_int_equal(vuart_read(&u, IIR), 0x04);
    assert_int_equal(vuart_read(&u, RBR), 'r');
    assert_int_equal(vuart_read(&u, IIR), 0x02);
    assert_int_equal(vuart_read(&u, IIR), 0x01);
}

static void test_out2_gates_irq(void **state)
{
    vuart_write(&u, IER, 0x03);
    vuart_push_rx(&u, 'r');
    /* Without OUT2 the interrupt is pending internally but not driven. */
    assert_false(vuart_irq_pending(&u));
    assert_int_equal(vuart_read(&u, IIR), 0x04);
    vuart_write(&u, MCR, 0x08);
    assert_true(vuart_irq_pending(&u));
    vuart_write(&u, MCR, 0x03); /* DTR | RTS only */
    assert_false(vuart_irq_pending(&u));
}

static void test_lcr_readback(void **state)
{
    for (unsigned v = 0; v < 256; v += 7) {
        vuart_write(&u, LCR, (uint8_t)v);
        assert_int_equal(vuart_read(&u, LCR), v);
    }
}

int main(void)
{
#define T(f) cmocka_unit_test_setup(f, setup)
    const struct CMUnitTest tests[] = {
        T(test_init),
        T(test_tx_line),
        T(test_tx_cr_dropped),
        T(test_tx_empty_lines_dropped),
        T(test_tx_control_chars),
        T(test_tx_long_line_split),
        T(test_tx_exact_line_max),
        T(test_tx_no_output_callback),
        T(test_flush),
        T(test_dlab),
        T(test_ier_mask),
        T(test_rx_fifo),
        T(test_fcr_fifo_bits_and_clear),
        T(test_scratch),
        T(test_loopback_linux_probe),
        T(test_loopback_data),
        T(test_thre_interrupt),
        T(test_thre_masked_by_ier),
        T(test_rx_interrupt),
        T(test_irq_priority),
        T(test_out2_gates_irq),
        T(test_lcr_readback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
