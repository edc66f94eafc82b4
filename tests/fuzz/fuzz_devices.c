/* fuzz_devices.c: libFuzzer target for chapter 07's device models driven the way guest exits drive
 * them: any sequence of UART, PIC, local APIC (MMIO, MSRs, IA32_APIC_BASE) and HPET accesses. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "console_script.h"
#include "fuzz.h"
#include "hpet.h"
#include "lapic.h"
#include "pic8259.h"
#include "uart16550.h"

#define TSC_HZ 5000000ull

/*
 * Each operation takes 12 input bytes: kind, size, offset (2), value (8). The clock moves
 * forward by the offset's low byte squared before each one (time never runs backwards: the
 * platform reads the TSC). Accesses reach the models exactly as chapter 07's exit handlers
 * pass them: UART register = port & 7, PIC port & 1, LAPIC and HPET offsets within their
 * page with the sizes the MMIO decoders produce (1, 2, 4, 8), x2APIC MSRs 0x800-0x8ff.
 */
struct op {
    uint8_t kind, size;
    uint16_t offset;
    uint64_t value;
};

static uint64_t tx_seen;
static struct console_script script;

static void tx(void *ctx, uint8_t byte)
{
    (void)ctx;
    tx_seen++;
    script_output(&script, byte);        /* the script watches every byte the guest sends */
}

static unsigned popcount_irr(const struct lapic *a)
{
    unsigned n = 0;
    for (int i = 0; i < 8; i++)
        n += (unsigned)__builtin_popcount(a->irr[i]);
    return n;
}

/* What must hold after every operation. */
static void check(struct lapic *a, struct uart16550 *u, uint64_t now)
{
    FUZZ_ASSERT(a->irr_count == popcount_irr(a));
    FUZZ_ASSERT((a->irr[0] & 0xffff) == 0 && (a->isr[0] & 0xffff) == 0);   /* vectors 0-15 illegal */
    int v = lapic_pending(a);
    FUZZ_ASSERT(v == -1 || (v >= 16 && v <= 255 && (a->irr[v >> 5] >> (v & 31)) & 1));
    /* After the timer caught up with now, its next expiry is in the future (or none): a
     * deadline in the past would make the hypervisor exit at once, forever. */
    lapic_timer_advance(a, now);
    FUZZ_ASSERT(a->deadline == 0 || a->deadline > now);
    FUZZ_ASSERT(u->rx_count <= UART_FIFO_SIZE && u->rx_head < UART_FIFO_SIZE);
    FUZZ_ASSERT(tx_seen <= u->tx_bytes);             /* loopback mode keeps bytes inside */
    FUZZ_ASSERT(script.nrecent <= SCRIPT_TEXT);
}

static void lapic_op(struct lapic *a, const struct op *o, uint64_t now)
{
    uint64_t v;
    switch (o->kind % 8) {
    case 0:
        v = lapic_mmio_read(a, o->offset & 0xfff, now);
        FUZZ_ASSERT(v >> 32 == 0);
        break;
    case 1: lapic_mmio_write(a, o->offset & 0xfff, (uint32_t)o->value, now); break;
    case 2: lapic_msr_read(a, 0x800 + (o->offset & 0xff), now, &v); break;
    case 3: lapic_msr_write(a, 0x800 + (o->offset & 0xff), o->value, now); break;
    case 4: lapic_set_base(a, o->value, now); break;
    case 5: lapic_raise(a, (uint8_t)o->value); break;
    case 6: {
        int p = lapic_pending(a);
        if (p >= 0)
            lapic_accept(a, p);
        break;
    }
    default: lapic_accept(a, (int)(o->value & 0x1ff)); break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct vclock clock = {TSC_HZ};
    static const unsigned sizes[4] = {1, 2, 4, 8};
    struct lapic a;
    struct hpet h;
    struct uart16550 u;
    struct pic8259 pic[2];
    char why[80];
    uint64_t now = 1000;
    tx_seen = 0;
    static const char text[] = "wait \">> \"\ntype \"x\\r\"\n";
    script_parse(&script, text, sizeof(text) - 1, why, sizeof(why));
    lapic_init(&a, &clock, TSC_HZ, size & 1);
    a.phys_bits = 39;
    hpet_init(&h, &clock);
    uart_init(&u, tx, NULL);
    pic_init(&pic[0]);
    pic_init(&pic[1]);
    for (size_t i = 0; i + 12 <= size; i += 12) {
        struct op o;
        memcpy(&o.kind, data + i, 1);
        memcpy(&o.size, data + i + 1, 1);
        memcpy(&o.offset, data + i + 2, 2);
        memcpy(&o.value, data + i + 4, 8);
        now += (uint64_t)(o.offset & 0xff) * (o.offset & 0xff);
        unsigned sz = sizes[o.size & 3];
        switch ((o.kind >> 4) % 5) {
        case 0:
            if (o.kind & 1)
                uart_write(&u, o.offset & 7, (uint8_t)o.value);
            else
                (void)uart_read(&u, o.offset & 7);
            if (o.kind & 2)
                uart_receive(&u, (uint8_t)o.value);
            break;
        case 1:
            if (o.kind & 1)
                pic_write(&pic[(o.kind >> 1) & 1], o.offset & 1, (uint8_t)o.value);
            else
                (void)pic_read(&pic[(o.kind >> 1) & 1], o.offset & 1);
            break;
        case 2:
        case 3:
            lapic_op(&a, &o, now);
            break;
        default:
            if (o.kind & 1)
                hpet_write(&h, o.offset & 0xfff, sz, o.value, now);
            else {
                uint64_t v = hpet_read(&h, o.offset & 0xfff, sz, now);
                FUZZ_ASSERT(sz == 8 || v >> (8 * sz) == 0);
            }
            break;
        }
        (void)script_next_byte(&script);
        check(&a, &u, now);
    }
    return 0;
}
