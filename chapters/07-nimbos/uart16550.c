/* uart16550.c: the 16550A's register behaviour (PC16550D data sheet, section 8): divisor latch
 * behind DLAB, FIFOs, interrupt identification by priority, loopback, modem status deltas. */
#include "uart16550.h"

#include "lib.h"

#define IER_RDI   0x01           /* received data available */
#define IER_THRI  0x02           /* transmitter holding register empty */
#define IER_RLSI  0x04           /* receiver line status */
#define IER_MSI   0x08           /* modem status */
#define IIR_NONE  0x01
#define IIR_MSI   0x00
#define IIR_THRI  0x02
#define IIR_RDI   0x04
#define IIR_RLSI  0x06
#define IIR_TIMEOUT 0x0c         /* FIFO mode: data below the trigger level is waiting */
#define IIR_FIFO  0xc0           /* both bits set when the FIFOs are enabled */
#define FCR_ENABLE 0x01
#define FCR_CLEAR_RX 0x02
#define MSR_CONNECTED 0xb0       /* DCD, DSR, CTS: a host that is always listening */

void uart_init(struct uart16550 *u, void (*tx)(void *ctx, uint8_t byte), void *ctx)
{
    *u = (struct uart16550){.tx = tx, .tx_ctx = ctx, .msr = MSR_CONNECTED};
}

static unsigned fifo_capacity(const struct uart16550 *u)
{
    return (u->fcr & FCR_ENABLE) ? UART_FIFO_SIZE : 1;      /* 16450 mode: one holding byte */
}

unsigned uart_rx_space(const struct uart16550 *u)
{
    return fifo_capacity(u) - u->rx_count;
}

bool uart_receive(struct uart16550 *u, uint8_t byte)
{
    if (u->rx_count >= fifo_capacity(u)) {
        u->lsr_errors |= UART_LSR_OE;
        u->overruns++;
        return false;
    }
    u->rx[(u->rx_head + u->rx_count++) % UART_FIFO_SIZE] = byte;
    u->rx_bytes++;
    return true;
}

static uint8_t rx_pop(struct uart16550 *u)
{
    if (!u->rx_count)
        return 0;
    uint8_t b = u->rx[u->rx_head];
    u->rx_head = (u->rx_head + 1) % UART_FIFO_SIZE;
    u->rx_count--;
    return b;
}

/* The receive trigger level of FCR bits 7:6: 1, 4, 8 or 14 bytes. */
static unsigned rx_trigger(const struct uart16550 *u)
{
    static const unsigned level[4] = {1, 4, 8, 14};
    return (u->fcr & FCR_ENABLE) ? level[u->fcr >> 6] : 1;
}

/* The highest-priority enabled source (data sheet Table IV): line status, received data
 * (or the FIFO timeout, reported at once here), transmitter empty, modem status. */
static uint8_t interrupt_id(const struct uart16550 *u)
{
    if ((u->ier & IER_RLSI) && u->lsr_errors)
        return IIR_RLSI;
    if ((u->ier & IER_RDI) && u->rx_count)
        return u->rx_count >= rx_trigger(u) ? IIR_RDI : IIR_TIMEOUT;
    if ((u->ier & IER_THRI) && u->thre_pending)
        return IIR_THRI;
    if ((u->ier & IER_MSI) && (u->msr & 0x0f))
        return IIR_MSI;
    return IIR_NONE;
}

bool uart_interrupt(const struct uart16550 *u)
{
    return interrupt_id(u) != IIR_NONE;
}

/* In loopback the modem inputs are the modem outputs: CTS = RTS, DSR = DTR, RI = OUT1,
 * DCD = OUT2 (data sheet 8.6). A change sets its delta bit; RI sets TERI on its falling edge. */
static void update_msr(struct uart16550 *u)
{
    uint8_t m = u->mcr, in = MSR_CONNECTED;
    if (m & UART_MCR_LOOP)
        in = (uint8_t)(((m & 0x02) << 3) | ((m & 0x01) << 5) | ((m & 0x04) << 4) | ((m & 0x08) << 4));
    uint8_t old = u->msr & 0xf0, changed = old ^ in, delta = u->msr & 0x0f;
    delta |= (changed & 0x10 ? 0x01 : 0) | (changed & 0x20 ? 0x02 : 0) | (changed & 0x80 ? 0x08 : 0);
    if ((old & 0x40) && !(in & 0x40))
        delta |= 0x04;
    u->msr = (uint8_t)(in | delta);
}

static void transmit(struct uart16550 *u, uint8_t byte)
{
    if (u->mcr & UART_MCR_LOOP)
        uart_receive(u, byte);           /* loopback: the byte comes straight back */
    else if (u->tx)
        u->tx(u->tx_ctx, byte);
    u->tx_bytes++;
    u->thre_pending = true;              /* sent at once: the holding register is empty again */
}

uint8_t uart_read(struct uart16550 *u, unsigned offset)
{
    bool dlab = u->lcr & UART_LCR_DLAB;
    uint8_t v;
    switch (offset & 7) {
    case UART_RBR:
        return dlab ? u->dll : rx_pop(u);
    case UART_IER:
        return dlab ? u->dlm : u->ier;
    case UART_IIR:
        v = interrupt_id(u);
        if (v == IIR_THRI)
            u->thre_pending = false;     /* reading IIR clears the THRE source */
        return (uint8_t)(v | ((u->fcr & FCR_ENABLE) ? IIR_FIFO : 0));
    case UART_LCR:
        return u->lcr;
    case UART_MCR:
        return u->mcr;
    case UART_LSR:
        u->lsr_reads++;
        v = uart_lsr_peek(u);
        u->lsr_errors = 0;               /* error bits clear on read */
        return v;
    case UART_MSR:
        v = u->msr;
        u->msr &= 0xf0;                  /* deltas clear on read */
        return v;
    default:
        return u->scr;
    }
}

void uart_write(struct uart16550 *u, unsigned offset, uint8_t value)
{
    bool dlab = u->lcr & UART_LCR_DLAB;
    switch (offset & 7) {
    case UART_RBR:
        if (dlab)
            u->dll = value;
        else
            transmit(u, value);
        break;
    case UART_IER:
        if (dlab) {
            u->dlm = value;
        } else {
            /* Enabling THRI while the holding register is empty raises it (data sheet 8.4). */
            if ((value & IER_THRI) && !(u->ier & IER_THRI))
                u->thre_pending = true;
            u->ier = value & 0x0f;
        }
        break;
    case UART_IIR:                       /* FCR */
        if ((value ^ u->fcr) & FCR_ENABLE)
            u->rx_count = 0;             /* switching the FIFOs on or off empties them */
        if (value & FCR_CLEAR_RX)
            u->rx_count = 0;
        u->fcr = value & 0xc1;           /* bits 1-2 self-clear; the transmitter has no FIFO to clear */
        break;
    case UART_LCR:
        u->lcr = value;
        break;
    case UART_MCR:
        u->mcr = value & 0x1f;
        update_msr(u);
        break;
    case UART_LSR:                       /* factory test only: writes have no effect */
    case UART_MSR:
        break;
    default:
        u->scr = value;
    }
}
