/* uart16550.h: a 16550A UART as a plain state machine: the eight registers and the divisor latch
 * the guest programs, a 16-byte receive FIFO the hypervisor fills, and bytes sent to a callback. */
#ifndef CH07_UART16550_H
#define CH07_UART16550_H

#include <stdbool.h>
#include <stdint.h>

/* Register offsets from the base port (PC16550D data sheet, Table II). */
#define UART_RBR 0               /* read: receiver buffer;   write: THR transmitter holding */
#define UART_IER 1               /* interrupt enable         (DLAB = 1: DLM, divisor high) */
#define UART_IIR 2               /* read: interrupt identification; write: FCR FIFO control */
#define UART_LCR 3               /* line control, bit 7 DLAB */
#define UART_MCR 4               /* modem control: DTR, RTS, OUT1, OUT2, LOOP */
#define UART_LSR 5               /* line status */
#define UART_MSR 6               /* modem status */
#define UART_SCR 7               /* scratch */

#define UART_LSR_DR   0x01       /* data ready: the receive FIFO holds a byte */
#define UART_LSR_OE   0x02       /* overrun: a byte arrived with the FIFO full and was lost */
#define UART_LSR_THRE 0x20       /* the transmitter takes a byte */
#define UART_LSR_TEMT 0x40       /* transmitter empty */
#define UART_LCR_DLAB 0x80
#define UART_MCR_LOOP 0x10
#define UART_FIFO_SIZE 16

struct uart16550 {
    uint8_t ier, lcr, mcr, scr, dll, dlm;
    uint8_t fcr;                 /* FIFO enable (bit 0) and trigger level (bits 7:6) as written */
    uint8_t lsr_errors;          /* OE, cleared by reading LSR */
    uint8_t msr;                 /* modem status: inputs (7:4) and their deltas (3:0) */
    bool thre_pending;           /* the "transmitter empty" interrupt is waiting */
    uint8_t rx[UART_FIFO_SIZE];
    unsigned rx_head, rx_count;
    void (*tx)(void *ctx, uint8_t byte);     /* where transmitted bytes go (the host console) */
    void *tx_ctx;
    uint64_t tx_bytes, rx_bytes, lsr_reads, overruns;
};

/* Power-on state (IER 0, IIR 1, LCR 0, MCR 0, LSR 0x60): tx receives every byte sent. */
void uart_init(struct uart16550 *u, void (*tx)(void *ctx, uint8_t byte), void *ctx);

/* A guest access to register offset 0-7 (an IN or OUT at base + offset). */
uint8_t uart_read(struct uart16550 *u, unsigned offset);
void uart_write(struct uart16550 *u, unsigned offset, uint8_t value);

/* The line side: how many bytes the receive FIFO can take now, and one arriving byte
 * (false: the FIFO was full, the byte is lost and LSR.OE set, as on the chip). */
unsigned uart_rx_space(const struct uart16550 *u);
bool uart_receive(struct uart16550 *u, uint8_t byte);

/* The INTR output (an interrupt is pending and enabled); a PC routes it to IRQ4 only with
 * MCR.OUT2 set. This platform wires it nowhere: NimbOS polls (docs/07-nimbos.md). */
bool uart_interrupt(const struct uart16550 *u);

/* The LSR a poll sees, without the side effect of clearing OE: the hot path's fast answer. */
static inline uint8_t uart_lsr_peek(const struct uart16550 *u)
{
    return (uint8_t)(UART_LSR_THRE | UART_LSR_TEMT | u->lsr_errors | (u->rx_count ? UART_LSR_DR : 0));
}

#endif
