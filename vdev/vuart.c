#include "vdev/vuart.h"

#include "lib/string.h"

enum {
    REG_RBR_THR_DLL = 0,
    REG_IER_DLM = 1,
    REG_IIR_FCR = 2,
    REG_LCR = 3,
    REG_MCR = 4,
    REG_LSR = 5,
    REG_MSR = 6,
    REG_SCR = 7,
};

#define LCR_DLAB 0x80
#define MCR_LOOP 0x10
#define LSR_DR   0x01
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define IER_RDA  0x01
#define IER_THRI 0x02
#define IIR_NONE 0x01
#define IIR_THRI 0x02
#define IIR_RDA  0x04
#define IIR_FIFO 0xc0 /* FIFOs enabled: reported in IIR bits 7:6 */

void vuart_init(struct vuart *u, uint16_t base, void (*output)(void *, const char *, unsigned),
                void *ctx)
{
    memset(u, 0, sizeof(*u));
    u->base = base;
    u->output = output;
    u->ctx = ctx;
    u->dll = 1; /* 115200 */
}

static void emit_line(struct vuart *u)
{
    if (u->line_len && u->output)
        u->output(u->ctx, u->line, u->line_len);
    u->line_len = 0;
}

static void transmit(struct vuart *u, uint8_t c)
{
    if (u->raw && u->raw_output) {
        if (u->line_len)
            emit_line(u);
        u->raw_output(u->ctx, (const char *)&c, 1);
        return;
    }
    if (c == '\r')
        return;
    if (c == '\n') {
        emit_line(u);
        return;
    }
    /* Control bytes other than tab would corrupt the host console. */
    /* 0x80-0x9f include C1 controls (0x9b starts an escape sequence). */
    if ((c < 0x20 && c != '\t') || (c >= 0x7f && c <= 0x9f))
        c = '.';
    if (u->line_len >= VUART_LINE_MAX) /* never past the buffer, whatever happened */
        emit_line(u);
    u->line[u->line_len++] = (char)c;
    if (u->line_len >= VUART_LINE_MAX)
        emit_line(u);
}

void vuart_flush(struct vuart *u)
{
    spin_lock(&u->lock);
    emit_line(u);
    spin_unlock(&u->lock);
}

static bool push_rx(struct vuart *u, uint8_t byte)
{
    if (u->rx_count >= VUART_RX_FIFO)
        return false;
    u->rx[(u->rx_head + u->rx_count) % VUART_RX_FIFO] = byte;
    u->rx_count++;
    return true;
}

bool vuart_push_rx(struct vuart *u, uint8_t byte)
{
    spin_lock(&u->lock);
    bool ok = push_rx(u, byte);
    spin_unlock(&u->lock);
    return ok;
}

static int pop_rx(struct vuart *u)
{
    int b = -1;
    if (u->rx_count) {
        b = u->rx[u->rx_head];
        u->rx_head = (u->rx_head + 1) % VUART_RX_FIFO;
        u->rx_count--;
    }
    return b;
}

bool vuart_irq_pending(struct vuart *u)
{
    spin_lock(&u->lock);
    bool level = (u->mcr & 0x08) && /* OUT2 gates the line on PCs */
                 (((u->ier & IER_RDA) && u->rx_count) || ((u->ier & IER_THRI) && u->thre_pending));
    spin_unlock(&u->lock);
    return level;
}

static uint8_t read_locked(struct vuart *u, unsigned offset)
{
    switch (offset) {
    case REG_RBR_THR_DLL: {
        if (u->lcr & LCR_DLAB)
            return u->dll;
        int b = pop_rx(u);
        return b < 0 ? 0 : (uint8_t)b;
    }
    case REG_IER_DLM:
        return (u->lcr & LCR_DLAB) ? u->dlm : u->ier;
    case REG_IIR_FCR: {
        uint8_t fifo = (u->fcr & 1) ? IIR_FIFO : 0;
        if ((u->ier & IER_RDA) && u->rx_count)
            return fifo | IIR_RDA;
        if ((u->ier & IER_THRI) && u->thre_pending) {
            u->thre_pending = false; /* reading IIR clears THRE */
            return fifo | IIR_THRI;
        }
        return fifo | IIR_NONE;
    }
    case REG_LCR:
        return u->lcr;
    case REG_MCR:
        return u->mcr;
    case REG_LSR:
        return LSR_THRE | LSR_TEMT | (u->rx_count ? LSR_DR : 0);
    case REG_MSR:
        /* Loopback maps MCR outputs onto the status inputs, which Linux's
         * 8250 probe checks (expects 0x90 with MCR = 0x1a). */
        if (u->mcr & MCR_LOOP)
            return (uint8_t)(((u->mcr & 0x02) << 3) | ((u->mcr & 0x01) << 5) |
                             ((u->mcr & 0x04) << 4) | ((u->mcr & 0x08) << 4));
        return 0xb0; /* CTS, DSR, DCD asserted */
    default:
        return u->scr;
    }
}

uint8_t vuart_read(struct vuart *u, unsigned offset)
{
    spin_lock(&u->lock);
    uint8_t val = read_locked(u, offset);
    spin_unlock(&u->lock);
    return val;
}

static void write_locked(struct vuart *u, unsigned offset, uint8_t val)
{
    switch (offset) {
    case REG_RBR_THR_DLL:
        if (u->lcr & LCR_DLAB) {
            u->dll = val;
        } else if (u->mcr & MCR_LOOP) {
            push_rx(u, val);
        } else {
            transmit(u, val);
            u->thre_pending = true;
        }
        break;
    case REG_IER_DLM:
        if (u->lcr & LCR_DLAB) {
            u->dlm = val;
        } else {
            /* Enabling THRI with an empty THR raises the interrupt at once. */
            if ((val & IER_THRI) && !(u->ier & IER_THRI))
                u->thre_pending = true;
            u->ier = val & 0x0f;
        }
        break;
    case REG_IIR_FCR:
        u->fcr = val & 0xc9;
        if (val & 0x02)
            u->rx_count = 0;
        break;
    case REG_LCR:
        u->lcr = val;
        break;
    case REG_MCR:
        u->mcr = val & 0x1f;
        break;
    case REG_SCR:
        u->scr = val;
        break;
    default:
        break; /* LSR and MSR are read-only */
    }
}

void vuart_write(struct vuart *u, unsigned offset, uint8_t val)
{
    spin_lock(&u->lock);
    write_locked(u, offset, val);
    spin_unlock(&u->lock);
}
