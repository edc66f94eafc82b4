/* pic8259.h: one 8259A programmable interrupt controller as far as a guest that masks it needs:
 * the initialization sequence, the mask register, and IRR/ISR reads (always empty here). */
#ifndef CH07_PIC8259_H
#define CH07_PIC8259_H

#include <stdbool.h>
#include <stdint.h>

struct pic8259 {
    uint8_t imr;                 /* interrupt mask (OCW1) */
    uint8_t vector_base;         /* ICW2: vectors base .. base + 7 */
    uint8_t icw3, icw4;
    uint8_t init_step;           /* 0: operational; 2-4: waiting for ICW2, ICW3, ICW4 */
    bool need_icw4, single;
    bool read_isr;               /* OCW3: a command-port read returns ISR, else IRR */
    uint64_t writes, mask_writes;
};

/* Power-on: every input masked (a firmware would have masked them before handing over). */
void pic_init(struct pic8259 *p);
/* port 0: the command port (0x20 / 0xA0), port 1: the data port (0x21 / 0xA1). */
uint8_t pic_read(struct pic8259 *p, unsigned port);
void pic_write(struct pic8259 *p, unsigned port, uint8_t value);

#endif
