#include "drivers/pit.h"

#include "arch/x86_64/cpu.h"

#define PIT_CH2     0x42
#define PIT_CMD     0x43
#define PORT_B      0x61
#define PORTB_GATE2 0x01
#define PORTB_SPKR  0x02
#define PORTB_OUT2  0x20

/* A port read takes about 1 us on real hardware; 55 ms is ~55,000 reads. */
#define PIT_POLL_LIMIT 20000000u

bool pit_measure_tsc(uint16_t ticks, uint64_t *tsc_delta)
{
    if (!ticks)
        return false;
    uint8_t portb = inb(PORT_B);
    /* Gate high, speaker off: channel 2 counts without making noise. */
    outb(PORT_B, (portb & ~PORTB_SPKR) | PORTB_GATE2);
    outb(PIT_CMD, 0xb0); /* channel 2, lobyte/hibyte, mode 0, binary */
    outb(PIT_CH2, ticks & 0xff);
    outb(PIT_CH2, ticks >> 8);
    uint64_t start = rdtsc();
    bool done = false;
    for (uint32_t i = 0; i < PIT_POLL_LIMIT; i++) {
        if (inb(PORT_B) & PORTB_OUT2) {
            done = true;
            break;
        }
    }
    uint64_t end = rdtsc();
    outb(PORT_B, portb & ~PORTB_SPKR);
    *tsc_delta = end - start;
    return done;
}
