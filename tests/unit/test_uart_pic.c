/* test_uart_pic.c: chapter 07's 16550 UART (NimbOS's set-up sequence, polling, FIFO, overrun,
 * IIR priorities, loopback and modem status), the 8259 PICs, and the console script. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "console_script.h"
#include "pic8259.h"
#include "uart16550.h"

static char sent[256];
static unsigned nsent;

static void tx(void *ctx, uint8_t b)
{
    CHECK(ctx == sent);
    if (nsent < sizeof(sent))
        sent[nsent++] = (char)b;
}

/* The guest's console: poll LSR.THRE before each byte, as NimbOS and tinyos do. */
static void guest_puts(struct uart16550 *u, const char *s)
{
    for (; *s; s++) {
        CHECK(uart_read(u, UART_LSR) & UART_LSR_THRE);
        uart_write(u, UART_RBR, (uint8_t)*s);
    }
}

static void test_uart_setup_and_output(void)
{
    struct uart16550 u;
    uart_init(&u, tx, sent);
    CHECK(uart_read(&u, UART_IIR) == 0x01 && uart_read(&u, UART_LSR) == 0x60);
    CHECK(uart_read(&u, UART_LCR) == 0 && uart_read(&u, UART_MCR) == 0);
    /* NimbOS's set-up writes (nimbos-guest.md). */
    uart_write(&u, UART_IER, 0x00);
    uart_write(&u, UART_LCR, 0x80);
    uart_write(&u, UART_RBR, 0x01);              /* DLL */
    uart_write(&u, UART_IER, 0x00);              /* DLM */
    CHECK(uart_read(&u, UART_RBR) == 0x01 && uart_read(&u, UART_IER) == 0x00);
    CHECK(nsent == 0);                           /* divisor writes are not output */
    uart_write(&u, UART_LCR, 0x03);
    uart_write(&u, UART_IIR, 0xc7);              /* FCR */
    uart_write(&u, UART_MCR, 0x0b);
    CHECK(uart_read(&u, UART_LCR) == 0x03 && uart_read(&u, UART_MCR) == 0x0b);
    CHECK(uart_read(&u, UART_IIR) == 0xc1);      /* FIFOs on, nothing pending */
    CHECK(u.dll == 1 && u.dlm == 0);
    uart_write(&u, UART_SCR, 0x5a);
    CHECK(uart_read(&u, UART_SCR) == 0x5a);
    guest_puts(&u, "arch = x86_64\r\n");
    CHECK(nsent == 15 && !memcmp(sent, "arch = x86_64\r\n", 15));
    CHECK(u.tx_bytes == 15 && u.lsr_reads == 16);
    uart_write(&u, UART_LSR, 0x00);              /* LSR writes change nothing */
    CHECK(uart_read(&u, UART_LSR) == 0x60);
}

static void test_uart_receive(void)
{
    struct uart16550 u;
    uart_init(&u, tx, sent);
    CHECK(uart_rx_space(&u) == 1);               /* 16450 mode until FCR enables the FIFOs */
    CHECK(uart_receive(&u, 'a') && !uart_receive(&u, 'b'));
    CHECK(uart_read(&u, UART_LSR) == (0x60 | UART_LSR_DR | UART_LSR_OE));
    CHECK(uart_read(&u, UART_LSR) == (0x60 | UART_LSR_DR));     /* OE clears on read */
    CHECK(uart_read(&u, UART_RBR) == 'a' && !(uart_read(&u, UART_LSR) & UART_LSR_DR));
    CHECK(u.overruns == 1);

    uart_write(&u, UART_IIR, 0x01);              /* FIFOs on */
    CHECK(uart_rx_space(&u) == 16);
    for (int i = 0; i < 16; i++)
        CHECK(uart_receive(&u, (uint8_t)('A' + i)));
    CHECK(uart_rx_space(&u) == 0 && !uart_receive(&u, '!'));
    for (int i = 0; i < 16; i++)
        CHECK(uart_read(&u, UART_RBR) == 'A' + i);
    CHECK(!(uart_read(&u, UART_LSR) & UART_LSR_DR));
    CHECK(uart_read(&u, UART_RBR) == 0);         /* empty FIFO */
    uart_receive(&u, 'x');
    uart_write(&u, UART_IIR, 0x03);              /* clear the receive FIFO */
    CHECK(!(uart_read(&u, UART_LSR) & UART_LSR_DR) && uart_rx_space(&u) == 16);
    uart_receive(&u, 'y');
    uart_write(&u, UART_IIR, 0x00);              /* FIFOs off: emptied */
    CHECK(!(uart_read(&u, UART_LSR) & UART_LSR_DR));
}

static void test_uart_interrupts(void)
{
    struct uart16550 u;
    uart_init(&u, tx, sent);
    CHECK(!uart_interrupt(&u));
    uart_write(&u, UART_IER, 0x02);              /* enabling THRI with THR empty raises it */
    CHECK(uart_interrupt(&u) && uart_read(&u, UART_IIR) == 0x02);
    CHECK(uart_read(&u, UART_IIR) == 0x01);      /* reading IIR cleared it */
    uart_write(&u, UART_RBR, 'z');
    CHECK(uart_read(&u, UART_IIR) == 0x02);      /* sent: empty again */
    uart_write(&u, UART_IER, 0x07);
    uart_receive(&u, '1');
    CHECK(uart_read(&u, UART_IIR) == 0x04);      /* received data outranks THRE */
    uart_receive(&u, '2');                       /* overrun in 16450 mode */
    CHECK(uart_read(&u, UART_IIR) == 0x06);      /* line status outranks both */
    uart_read(&u, UART_LSR);
    CHECK(uart_read(&u, UART_IIR) == 0x04);
    uart_write(&u, UART_IIR, 0xc1);              /* FIFOs, trigger 14: below it -> timeout id */
    uart_receive(&u, '3');
    CHECK(uart_read(&u, UART_IIR) == 0xcc);
    for (int i = 0; i < 13; i++)
        uart_receive(&u, '4');
    CHECK(uart_read(&u, UART_IIR) == 0xc4);
    uart_write(&u, UART_IER, 0x00);
    CHECK(!uart_interrupt(&u) && uart_read(&u, UART_IIR) == 0xc1);
}

static void test_uart_loopback_and_msr(void)
{
    struct uart16550 u;
    uart_init(&u, tx, sent);
    nsent = 0;
    CHECK(uart_read(&u, UART_MSR) == 0xb0);      /* DCD, DSR, CTS: the host listens */
    uart_write(&u, UART_MCR, 0x10);              /* loopback, all outputs off */
    CHECK(uart_read(&u, UART_MSR) == 0x0b);      /* CTS, DSR, DCD fell: their deltas */
    CHECK(uart_read(&u, UART_MSR) == 0x00);      /* deltas clear on read */
    uart_write(&u, UART_MCR, 0x1f);              /* DTR, RTS, OUT1, OUT2 */
    CHECK(uart_read(&u, UART_MSR) == 0xfb);
    uart_write(&u, UART_MCR, 0x1b);              /* OUT1 (RI) falls: trailing edge */
    CHECK(uart_read(&u, UART_MSR) == 0xb4);
    uart_write(&u, UART_RBR, 'L');
    CHECK(nsent == 0 && uart_read(&u, UART_RBR) == 'L');
    uart_write(&u, UART_MCR, 0x10);              /* loopback, outputs off */
    uart_read(&u, UART_MSR);
    uart_write(&u, UART_IER, 0x08);
    CHECK(uart_read(&u, UART_IIR) == 0x01);
    uart_write(&u, UART_MCR, 0x0b);              /* loopback off: inputs back to "connected" */
    CHECK(uart_read(&u, UART_IIR) == 0x00);      /* modem status change pending */
    uart_read(&u, UART_MSR);
    CHECK(uart_read(&u, UART_IIR) == 0x01);
}

static void test_pic(void)
{
    struct pic8259 p;
    pic_init(&p);
    CHECK(pic_read(&p, 1) == 0xff && pic_read(&p, 0) == 0);
    pic_write(&p, 1, 0xfb);                      /* OCW1 */
    CHECK(pic_read(&p, 1) == 0xfb && p.mask_writes == 1);
    pic_write(&p, 0, 0x11);                      /* ICW1: cascade, ICW4 follows */
    CHECK(pic_read(&p, 1) == 0x00);              /* initialization clears the mask */
    pic_write(&p, 1, 0x20);                      /* ICW2 */
    pic_write(&p, 1, 0x04);                      /* ICW3 */
    pic_write(&p, 1, 0x01);                      /* ICW4 */
    CHECK(p.vector_base == 0x20 && p.icw3 == 0x04 && p.icw4 == 0x01 && p.init_step == 0);
    CHECK(pic_read(&p, 1) == 0x00 && p.mask_writes == 1);
    pic_write(&p, 1, 0xff);                      /* NimbOS: mask everything */
    CHECK(pic_read(&p, 1) == 0xff);
    pic_write(&p, 0, 0x13);                      /* single, ICW4: no ICW3 */
    pic_write(&p, 1, 0x28);
    pic_write(&p, 1, 0x01);
    CHECK(p.vector_base == 0x28 && p.init_step == 0);
    pic_write(&p, 0, 0x0b);                      /* OCW3: read ISR */
    CHECK(p.read_isr && pic_read(&p, 0) == 0);
    pic_write(&p, 0, 0x20);                      /* OCW2: EOI, nothing in service */
    CHECK(pic_read(&p, 1) == 0x00);
}

static void test_script(void)
{
    struct console_script s;
    char why[160];
    const char *text = "# NimbOS's usertests\n  wait \">> \"\ntype \"usertests\\r\"\r\n\n"
                       "wait \"passed!\\x0d\"\ntype \"\\\"q\\\\\"\n";
    CHECK(script_parse(&s, text, strlen(text), why, sizeof(why)) == 0);
    CHECK(s.nsteps == 4 && s.step[0].kind == SCRIPT_WAIT && s.step[1].kind == SCRIPT_TYPE && s.step[1].len == 10);
    CHECK(script_next_byte(&s) == -1);           /* waiting */
    const char *out = "Rust user shell\r\n>";
    for (const char *p = out; *p; p++)
        script_output(&s, (uint8_t)*p);
    CHECK(script_next_byte(&s) == -1);
    script_output(&s, '>');
    script_output(&s, ' ');
    char typed[16] = {0};
    for (int i = 0; i < 10; i++)
        typed[i] = (char)script_next_byte(&s);
    CHECK(!strcmp(typed, "usertests\r") && script_next_byte(&s) == -1);
    /* Output printed before the wait began does not count: ">> " must come again. */
    for (const char *p = "usertests passed!\r"; *p; p++)
        script_output(&s, (uint8_t)*p);
    CHECK(script_next_byte(&s) == '"' && script_next_byte(&s) == 'q');
    CHECK(script_next_byte(&s) == '\\' && script_done(&s) && script_next_byte(&s) == -1);
    CHECK(s.waits_matched == 2 && s.bytes_typed == 13);

    /* "stop" ends the run once the steps before it are done. */
    const char *stop = "wait \"$ \"\n  stop  \r\n";
    CHECK(script_parse(&s, stop, strlen(stop), why, sizeof(why)) == 0 && s.nsteps == 2);
    CHECK(!script_stopped(&s));
    script_output(&s, '$');
    CHECK(!script_stopped(&s));
    script_output(&s, ' ');
    CHECK(script_stopped(&s) && !script_done(&s) && script_next_byte(&s) == -1);

    const char *bad[] = {"stop now", "stop \"x\"", "wait >>", "send \"x\"", "type \"\"", "type \"a\\q\"", "wait \"x",
                         "type \"\\x4\"", "wait \"a\" b", "type\"x\""};
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK(script_parse(&s, bad[i], strlen(bad[i]), why, sizeof(why)) == -1);
        CHECK(strstr(why, "line 1") != NULL);
    }
    char longer[200];
    snprintf(longer, sizeof(longer), "wait \"%070d\"", 0);
    CHECK(script_parse(&s, longer, strlen(longer), why, sizeof(why)) == -1);
}

int main(void)
{
    test_uart_setup_and_output();
    test_uart_receive();
    test_uart_interrupts();
    test_uart_loopback_and_msr();
    test_pic();
    test_script();
    return CHECK_DONE();
}
