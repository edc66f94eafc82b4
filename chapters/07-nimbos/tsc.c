/* tsc.c: how fast the TSC runs, measured against the 8254 PIT's channel 2, whose input clock is
 * 1.193182 MHz on every PC (and in Bochs, whose PIT and TSC both follow emulated time). */
#include "kernel.h"
#include "platform.h"

#define PIT_HZ        1193182u
#define PIT_COUNT     11932u     /* 10 ms */
#define PORT_PIT_CH2  0x42
#define PORT_PIT_CMD  0x43
#define PORT_SPEAKER  0x61       /* bit 0: channel 2 gate, bit 1: speaker, bit 5: OUT2 */

/*
 * Channel 2 in mode 0 ("interrupt on terminal count"): OUT2 goes high when the count
 * reaches 0, and port 0x61 bit 5 shows it, so no interrupt is needed (the method Linux's
 * pit_calibrate_tsc() uses). Returns the rate in kHz, or 0 when OUT2 never rose.
 */
uint64_t tsc_measure_khz(void)
{
    outb(PORT_SPEAKER, (uint8_t)((inb(PORT_SPEAKER) & ~0x02) | 0x01));
    outb(PORT_PIT_CMD, 0xb0);            /* channel 2, low then high byte, mode 0, binary */
    outb(PORT_PIT_CH2, PIT_COUNT & 0xff);
    outb(PORT_PIT_CH2, PIT_COUNT >> 8);
    uint64_t t0 = rdtsc(), t1;
    for (uint32_t polls = 0; !(inb(PORT_SPEAKER) & 0x20); polls++)
        if (polls > 2000000)             /* each poll is a port read: about a microsecond */
            return 0;
    t1 = rdtsc();
    return (t1 - t0) * PIT_HZ / ((uint64_t)PIT_COUNT * 1000);
}
