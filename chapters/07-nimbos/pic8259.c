/* pic8259.c: the 8259A's command words (Intel 8259A data sheet, "Programming the 8259A"): ICW1-4
 * start-up, OCW1 mask, OCW2 EOI commands accepted, OCW3 register select. No input is ever raised. */
#include "pic8259.h"

#define ICW1_ICW4   0x01         /* ICW4 follows */
#define ICW1_SINGLE 0x02         /* no slave: no ICW3 */
#define ICW1_INIT   0x10         /* a command-port write with bit 4 set is ICW1 */
#define OCW3_SELECT 0x08         /* with bit 4 clear: this is OCW3, not OCW2 */
#define OCW3_RR     0x02         /* read register command, ... */
#define OCW3_RIS    0x01         /* ... ISR (1) or IRR (0) */

void pic_init(struct pic8259 *p)
{
    *p = (struct pic8259){.imr = 0xff};
}

uint8_t pic_read(struct pic8259 *p, unsigned port)
{
    if (port & 1)
        return p->imr;
    /* IRR or ISR: no device raises an input on this platform, so both are 0. */
    (void)p->read_isr;
    return 0;
}

/*
 * ICW1 (command port, bit 4) starts initialization: the mask is cleared and the next
 * data-port writes are ICW2 (vector base), ICW3 (cascade, unless single) and ICW4 (if
 * ICW1 asked for it). Outside initialization a data-port write is OCW1, the mask.
 */
void pic_write(struct pic8259 *p, unsigned port, uint8_t value)
{
    p->writes++;
    if (!(port & 1)) {
        if (value & ICW1_INIT) {
            p->init_step = 2;
            p->need_icw4 = value & ICW1_ICW4;
            p->single = value & ICW1_SINGLE;
            p->imr = 0;
            p->read_isr = false;
        } else if (value & OCW3_SELECT) {
            if (value & OCW3_RR)
                p->read_isr = value & OCW3_RIS;
        }
        /* OCW2 (EOI, rotation): nothing is ever in service, nothing to do. */
        return;
    }
    switch (p->init_step) {
    case 2:
        p->vector_base = value & 0xf8;
        p->init_step = !p->single ? 3 : p->need_icw4 ? 4 : 0;
        break;
    case 3:
        p->icw3 = value;
        p->init_step = p->need_icw4 ? 4 : 0;
        break;
    case 4:
        p->icw4 = value;
        p->init_step = 0;
        break;
    default:
        p->imr = value;
        p->mask_writes++;
    }
}
