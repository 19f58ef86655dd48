#include "drivers/uart16550.h"

#include "arch/x86_64/cpu.h"
#include "drivers/uart_txq.h"
#include "lib/spinlock.h"
#include "lib/string.h"

enum {
    UART_RBR = 0, /* receive buffer (read), DLAB=0 */
    UART_THR = 0, /* transmit holding (write) */
    UART_DLL = 0, /* divisor latch low, DLAB=1 */
    UART_IER = 1,
    UART_DLM = 1,
    UART_IIR = 2,
    UART_FCR = 2,
    UART_LCR = 3,
    UART_MCR = 4,
    UART_LSR = 5,
    UART_MSR = 6,
    UART_SCR = 7,
};

#define LSR_DR   0x01
#define LSR_OE   0x02 /* overrun: the FIFO was full and a byte was lost */
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define LCR_DLAB 0x80
#define LCR_8N1  0x03
#define MCR_DTR  0x01
#define MCR_RTS  0x02
#define MCR_OUT2 0x08 /* gates the UART interrupt line on PCs */
#define IER_RDA  0x01
#define IER_THRI 0x02 /* transmit holding register (FIFO) empty */
#define IIR_FIFO 0xc0 /* both set: the FIFOs are enabled (a 16550A or better) */
#define IIR_NONE 0x01 /* no interrupt pending */

#define UART_CLOCK    115200
#define TX_SPIN_MAX   100000 /* ~ a few ms: never hang on a dead UART */
#define RX_FIFO_BYTES 16     /* a 16550's receive FIFO */
/* Holds a whole pasted line and more: the console reads it between guest
 * slices (10 ms and more), and echoing a byte takes as long as receiving it. */
#define RX_RING_SIZE  4096
#define TX_FIFO_BYTES 16 /* a 16550A's transmit FIFO, empty when LSR.THRE */

static struct uart_config cfg = {false, 0x3f8, 0, 115200, 4};
static bool present;
static volatile uint8_t rx_ring[RX_RING_SIZE];
static volatile unsigned rx_head, rx_tail;
static spinlock_t tx_lock = SPINLOCK_INIT;
static spinlock_t rx_lock = SPINLOCK_INIT; /* one producer of rx_ring at a time */
static volatile bool rx_enabled;           /* the console takes input: bytes are worth keeping */
static unsigned long long rx_lost_ring, rx_lost_overrun;
/* Queued transmit (uart_write_queued), filled by the console CPU and fed
 * to the transmitter by uart_tx_pump (the UART's interrupt) or by the next
 * synchronous writer, which writes it out first: its size also bounds how
 * long such a writer waits for it. All under tx_lock. */
static struct uart_txq txq;
static bool tx_queue_on;      /* the transmit interrupt is wired: queueing allowed */
static unsigned tx_burst = 1; /* bytes the transmitter takes when THRE is set */
static uint8_t ier;           /* IER as last written */
static bool tx_mid_line;      /* the transmitter has part of a queued line */

static uint8_t reg_read(unsigned reg)
{
    if (cfg.mmio)
        return *(volatile uint8_t *)(cfg.base + ((uint64_t)reg << cfg.reg_shift));
    return inb((uint16_t)(cfg.base + reg));
}

static void reg_write(unsigned reg, uint8_t v)
{
    if (cfg.mmio)
        *(volatile uint8_t *)(cfg.base + ((uint64_t)reg << cfg.reg_shift)) = v;
    else
        outb((uint16_t)(cfg.base + reg), v);
}

int uart_parse_console(const char *s, size_t len, struct uart_config *out)
{
    struct uart_config c = {false, 0, 0, 115200, 0};
    size_t comma = 0;
    unsigned long long v;

    while (comma < len && s[comma] != ',')
        comma++;
    if (comma == 4 && !strncmp(s, "com1", 4)) {
        c.base = 0x3f8;
        c.irq = 4;
    } else if (comma == 4 && !strncmp(s, "com2", 4)) {
        c.base = 0x2f8;
        c.irq = 3;
    } else if ((comma == 4 && !strncmp(s, "mmio", 4)) || (comma == 6 && !strncmp(s, "mmio32", 6))) {
        size_t start = comma + 1, end = start;
        if (start >= len)
            return -1;
        while (end < len && s[end] != ',')
            end++;
        if (str_to_u64(s + start, end - start, &v, 0) || v == 0)
            return -1;
        c.mmio = true;
        c.base = v;
        c.reg_shift = comma == 6 ? 2 : 0;
        comma = end;
    } else {
        if (str_to_u64(s, comma, &v, 0) || v == 0 || v > 0xfff8)
            return -1;
        c.base = v;
    }
    if (comma < len) {
        if (str_to_u64(s + comma + 1, len - comma - 1, &v, 0) || v < 50 || v > UART_CLOCK)
            return -1;
        c.baud = (unsigned)v;
    }
    *out = c;
    return 0;
}

void uart_init(const struct uart_config *c)
{
    cfg = *c;
    if (!cfg.baud)
        cfg.baud = 115200;
    /* A scratch-register round trip tells whether anything answers here. */
    reg_write(UART_SCR, 0x5a);
    present = reg_read(UART_SCR) == 0x5a;
    unsigned divisor = UART_CLOCK / cfg.baud;
    reg_write(UART_IER, 0);
    ier = 0;
    reg_write(UART_LCR, LCR_DLAB);
    reg_write(UART_DLL, divisor & 0xff);
    reg_write(UART_DLM, (divisor >> 8) & 0xff);
    reg_write(UART_LCR, LCR_8N1);
    /* Enable and clear the FIFOs with a 1-byte trigger: emulators deliver
     * typed bursts at once, and a deeper trigger overruns the FIFO before
     * the interrupt is taken. */
    reg_write(UART_FCR, 0x07);
    tx_burst = (reg_read(UART_IIR) & IIR_FIFO) == IIR_FIFO ? TX_FIFO_BYTES : 1;
    reg_write(UART_MCR, MCR_DTR | MCR_RTS | MCR_OUT2);
    (void)reg_read(UART_RBR);
    (void)reg_read(UART_LSR);
}

bool uart_present(void)
{
    return present;
}

const struct uart_config *uart_get_config(void)
{
    return &cfg;
}

/* Reading LSR clears its error bits: every read goes through here so an
 * overrun is never missed. */
static uint8_t read_lsr(void)
{
    uint8_t lsr = reg_read(UART_LSR);
    if (lsr & LSR_OE)
        rx_lost_overrun++; /* at least one byte; the UART cannot say how many */
    return lsr;
}

static void rx_drain(void)
{
    /* Bounded: a broken UART that always reports data must not hang us. */
    for (int i = 0; i < 4 * RX_FIFO_BYTES && (read_lsr() & LSR_DR); i++) {
        uint8_t b = reg_read(UART_RBR);
        unsigned next = (rx_head + 1) % RX_RING_SIZE;
        if (next == rx_tail) {
            rx_lost_ring++; /* full: drop the byte rather than block */
            continue;
        }
        rx_ring[rx_head] = b;
        __atomic_store_n(&rx_head, next, __ATOMIC_RELEASE);
    }
}

/* Moves received bytes from the FIFO into the ring. Also called while the
 * transmitter is busy: printing a line takes as long as receiving it, so a
 * burst typed during output would otherwise overrun the 16-byte FIFO. */
static void rx_drain_safe(bool wait)
{
    unsigned long flags = irq_save();
    if (!wait && !spin_trylock(&rx_lock)) {
        irq_restore(flags); /* another CPU is draining: nothing to do */
        return;
    }
    if (wait)
        spin_lock(&rx_lock);
    rx_drain();
    spin_unlock(&rx_lock);
    irq_restore(flags);
}

static void put_raw(char c)
{
    for (int i = 0; i < TX_SPIN_MAX; i++) {
        uint8_t lsr = read_lsr();
        if (lsr & LSR_THRE)
            break;
        if ((lsr & LSR_DR) && rx_enabled)
            rx_drain_safe(false);
        cpu_relax();
    }
    reg_write(UART_THR, (uint8_t)c);
}

void uart_putc(char c)
{
    if (c == '\n')
        put_raw('\r');
    put_raw(c);
}

static void set_ier(uint8_t v)
{
    if (v == ier)
        return;
    ier = v;
    reg_write(UART_IER, v);
}

/* With tx_lock held: the transmit interrupt is wanted while bytes wait. */
static void tx_irq_update(void)
{
    if (tx_queue_on)
        set_ier((uint8_t)((ier & ~IER_THRI) | (uart_txq_used(&txq) ? IER_THRI : 0)));
}

/* With tx_lock held: what the transmitter takes now, without waiting. */
static void tx_pump_locked(void)
{
    char c;
    if (uart_txq_used(&txq) && (read_lsr() & LSR_THRE))
        for (unsigned i = 0; i < tx_burst && uart_txq_take(&txq, &c); i++) {
            reg_write(UART_THR, (uint8_t)c);
            tx_mid_line = c != '\n';
        }
    tx_irq_update();
}

/* Writes s after all that is queued (all_queued) or only after the rest
 * of the queued line the transmitter has begun. */
static void write_sync(const char *s, size_t n, bool all_queued)
{
    /* Bounded: a panic on another CPU must still get its report out. */
    bool locked = false;
    for (int i = 0; i < 1000000 && !(locked = spin_trylock(&tx_lock)); i++)
        cpu_relax();
    char c;
    while ((all_queued || tx_mid_line) && uart_txq_take(&txq, &c)) {
        put_raw(c);
        tx_mid_line = c != '\n';
    }
    tx_mid_line = false;
    for (size_t i = 0; i < n; i++)
        uart_putc(s[i]);
    tx_irq_update();
    if (locked)
        spin_unlock(&tx_lock);
}

void uart_write(const char *s, size_t n)
{
    write_sync(s, n, true);
}

void uart_write_between_lines(const char *s, size_t n)
{
    write_sync(s, n, false);
}

bool uart_write_queued(const char *s, size_t n)
{
    /* With interrupts off nothing may empty the ring (a panic, say). */
    if (!tx_queue_on || !irq_enabled())
        return false;
    unsigned long flags = irq_save();
    if (!spin_trylock(&tx_lock)) {
        irq_restore(flags);
        return false; /* a synchronous writer is busy: join the queue there */
    }
    bool fits = uart_txq_put(&txq, s, n);
    if (fits)
        tx_pump_locked();
    spin_unlock(&tx_lock);
    irq_restore(flags);
    return fits;
}

size_t uart_tx_room(void)
{
    return tx_queue_on ? uart_txq_room(&txq) : 0;
}

size_t uart_tx_queued(void)
{
    return uart_txq_used(&txq);
}

bool uart_tx_queue_enabled(void)
{
    return tx_queue_on;
}

void uart_tx_pump(void)
{
    if (!uart_txq_used(&txq))
        return;
    unsigned long flags = irq_save();
    if (spin_trylock(&tx_lock)) { /* else its holder writes the ring out */
        tx_pump_locked();
        spin_unlock(&tx_lock);
    }
    irq_restore(flags);
}

int uart_getc(void)
{
    /* Also drain here: a burst may sit in the FIFO below the trigger. The
     * interrupt handler drains too, so keep it out meanwhile. */
    rx_drain_safe(true);
    if (rx_tail == rx_head)
        return -1;
    int b = rx_ring[rx_tail];
    rx_tail = (rx_tail + 1) % RX_RING_SIZE;
    return b;
}

void uart_rx_interrupt(void)
{
    /* Receive and transmit share the UART's one edge-triggered line: serve
     * both until IIR says nothing is pending, so the line goes low and the
     * next event raises a new edge (else a byte arriving meanwhile would
     * wait, with the line high, for the console's next poll, and a pasted
     * burst would overrun the FIFO). Bounded for a UART that never clears. */
    for (int i = 0; i < 8; i++) {
        rx_drain_safe(true);
        uart_tx_pump();
        if (reg_read(UART_IIR) & IIR_NONE)
            break;
    }
}

void uart_enable_rx_interrupt(void)
{
    unsigned long flags = irq_save();
    spin_lock(&tx_lock);
    rx_enabled = true;
    tx_queue_on = true; /* the same interrupt empties the transmit ring */
    set_ier((uint8_t)(ier | IER_RDA));
    spin_unlock(&tx_lock);
    irq_restore(flags);
}

bool uart_rx_interrupt_enabled(void)
{
    return rx_enabled;
}

unsigned uart_rx_fifo_fill_us(void)
{
    /* 10 bits a byte (start, 8 data, stop). */
    return (unsigned)(RX_FIFO_BYTES * 10ULL * 1000000ULL / cfg.baud);
}

unsigned long long uart_rx_lost(void)
{
    return rx_lost_ring + rx_lost_overrun;
}

void uart_reset_for_firmware(void)
{
    if (!present)
        return;
    uart_write("", 0); /* what is queued goes out first */
    tx_queue_on = false;
    ier = 0;
    for (int i = 0; i < TX_SPIN_MAX && !(reg_read(UART_LSR) & LSR_TEMT); i++)
        cpu_relax();
    /* The power-on state: the BIOS takes a port whose IIR reads other than
     * 0x02 (FIFO bits set) for absent, and Bochs' reset leaves the UART
     * as it was. */
    reg_write(UART_IER, 0);
    reg_write(UART_FCR, 0);
    reg_write(UART_MCR, 0);
}
