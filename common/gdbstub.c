/* gdbstub.c: the GDB remote serial protocol on COM2: packets, the stop loop, memory,
 * breakpoints, single step and Ctrl-C. Registers and monitor commands: gdbstub_regs.c. */
#include "gdbstub.h"

#include "gdbstub_int.h"
#include "kernel.h"
#include "serial.h"

/*
 * How the stub gets control (protocol: gdb manual, appendix "Remote Protocol"):
 *
 *   int3 (#BP)      a breakpoint gdb planted (Z0 packet), gdbstub_breakpoint(), panic()
 *   RFLAGS.TF (#DB) one instruction after gdb asked for a single step
 *   NMI             gdb sent Ctrl-C (0x03) while the kernel ran
 *   other vectors   a fatal exception: gdb shows where, then the kernel panics as usual
 *
 * Why Ctrl-C arrives as an NMI: chapter kernels run with interrupts disabled
 * (and a VM exit clears RFLAGS.IF, SDM Vol. 3C, 27.5.3), so neither a timer
 * interrupt nor the UART's own interrupt would ever reach a kernel stuck in a
 * loop. An NMI is not blocked by RFLAGS.IF. COM2's receive interrupt (ISA IRQ 3)
 * goes to IOAPIC input 3, whose redirection entry says "NMI" (82093AA data
 * sheet, 3.2.4), and the NMI handler reads the byte. This needs nothing from the
 * 8259 PIC, the local APIC timer, or the chapter.
 */
#define GDB_PORT COM2_PORT
#define MAX_BREAKPOINTS 64
#define INT3 0xcc

#define IOAPIC_BASE 0xfec00000ul
#define IOAPIC_REDTBL(pin) (0x10 + 2 * (pin))
#define IOAPIC_DELIVERY_NMI (4u << 8)
#define IOAPIC_MASKED (1u << 16)
#define COM2_IRQ 3
#define PIC1_DATA 0x21

#define UART_IER 1
#define UART_MCR 4
#define UART_LSR 5
#define LSR_TX_EMPTY 0x40            /* TEMT: holding and shift registers both empty */
#define IER_RX_AVAILABLE 0x01
#define MCR_DTR_RTS_OUT2 0x0b        /* OUT2 gates the UART's IRQ line on PCs */

#define VMCS_HOST_RIP 0x6c16        /* SDM Vol. 3D, B.4.4 */

static struct {
    bool armed;            /* gdb= was on the command line */
    bool attached;         /* gdb is there: false after it detached or killed */
    bool in_stub;          /* the stop loop runs: a nested stop is ignored */
    bool no_ack;           /* QStartNoAckMode accepted */
    bool guest_running;    /* between gdbstub_guest_enter() and _exit() */
    bool pending_dollar;   /* a '$' was read outside read_packet() */
    bool next_quiet;       /* the next int3 stop sends no stop reply (gdb asks '?') */
    int next_signal;       /* the signal the next hard-coded int3 reports */
    uint64_t step_bp;      /* temporary int3 at HOST_RIP while stepping over VM entry */
    uint8_t step_bp_saved;
} gs;

struct breakpoint {
    uint64_t addr;
    uint8_t saved;
    bool used;
};
static struct breakpoint bps[MAX_BREAKPOINTS];

static char in[GDB_PACKET_MAX + 1];
static const char hexchars[] = "0123456789abcdef";
static struct gdb_reply out, console_out;

/* ---- packets on COM2 ---- */

static void put(char c) { serial_putc(GDB_PORT, c); }
static int get(void) { return serial_getc(GDB_PORT); }

static void send_packet(const struct gdb_reply *r)
{
    for (;;) {
        uint8_t sum = 0;
        put('$');
        for (size_t i = 0; i < r->len; i++) {
            put(r->buf[i]);
            sum = (uint8_t)(sum + (uint8_t)r->buf[i]);
        }
        put('#');
        put(hexchars[sum >> 4]);
        put(hexchars[sum & 15]);
        if (gs.no_ack)
            return;
        int c = get();
        if (c == '-')
            continue;                   /* gdb saw a bad checksum: send again */
        if (c == '$')
            gs.pending_dollar = true;   /* gdb moved on to its next packet */
        return;
    }
}

/* Reads "$data#cs" into in[], acknowledging it; returns its length. */
static size_t read_packet(void)
{
    for (;;) {
        int c = gs.pending_dollar ? '$' : get();
        gs.pending_dollar = false;
        if (c != '$')
            continue;                   /* acks, a late Ctrl-C, line noise */
        size_t n = 0;
        uint8_t sum = 0;
        bool fits = true;
        while ((c = get()) != '#' && c != '$') {
            if (n < GDB_PACKET_MAX)
                in[n++] = (char)c;
            else
                fits = false;
            sum = (uint8_t)(sum + (uint8_t)c);
        }
        if (c == '$') {                 /* a new packet began: drop the broken one */
            gs.pending_dollar = true;
            continue;
        }
        int hi = hex_digit((char)get()), lo = hex_digit((char)get());
        bool ok = fits && hi >= 0 && lo >= 0 && (uint8_t)(hi << 4 | lo) == sum;
        if (!gs.no_ack)
            put(ok ? '+' : '-');
        if (ok) {
            in[n] = '\0';
            return n;
        }
    }
}

void gdb_console(const char *fmt, ...)
{
    static char line[512];
    va_list ap;
    va_start(ap, fmt);
    kvsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    console_out.len = 0;
    console_out.overflow = false;
    reply_char(&console_out, 'O');
    reply_hex(&console_out, line, strlen(line));
    send_packet(&console_out);
}

/* ---- memory (gdb_read_byte() and gdb_write_byte() recover from faults) ---- */

/* "m addr,length": as many bytes as can be read; E14 (EFAULT) if none. */
static void read_memory(const char *p)
{
    uint64_t addr, len;
    if (!parse_hex(&p, &addr) || *p++ != ',' || !parse_hex(&p, &len)) {
        reply_str(&out, "E01");
        return;
    }
    if (len > (GDB_PACKET_MAX - 1) / 2)
        len = (GDB_PACKET_MAX - 1) / 2;
    uint64_t i;
    for (i = 0; i < len; i++) {
        uint8_t b;
        if (gdb_read_byte(addr + i, &b) != NO_FAULT)
            break;
        reply_hex(&out, &b, 1);
    }
    if (i == 0 && len)
        reply_str(&out, "E14");
}

/* "M addr,length:hex bytes" */
static void write_memory(const char *p)
{
    uint64_t addr, len;
    if (!parse_hex(&p, &addr) || *p++ != ',' || !parse_hex(&p, &len) || *p++ != ':' ||
        strlen(p) != 2 * len) {
        reply_str(&out, "E01");
        return;
    }
    for (uint64_t i = 0; i < len; i++) {
        uint8_t b;
        if (!unhex(p + 2 * i, &b, 1) || gdb_write_byte(addr + i, b) != NO_FAULT) {
            reply_str(&out, "E14");
            return;
        }
    }
    reply_str(&out, "OK");
}

/* ---- software breakpoints: int3 planted on gdb's request (Z0/z0) ---- */

static struct breakpoint *find_breakpoint(uint64_t addr)
{
    for (int i = 0; i < MAX_BREAKPOINTS; i++)
        if (bps[i].used && bps[i].addr == addr)
            return &bps[i];
    return 0;
}

static bool plant(uint64_t addr, uint8_t *saved)
{
    uint8_t check;
    return gdb_read_byte(addr, saved) == NO_FAULT && gdb_write_byte(addr, INT3) == NO_FAULT &&
           gdb_read_byte(addr, &check) == NO_FAULT && check == INT3;
}

/* "Z0,addr,kind" / "z0,addr,kind"; other types (hardware, watchpoints): not supported. */
static void breakpoint_packet(bool insert, const char *p)
{
    uint64_t type, addr;
    if (!parse_hex(&p, &type) || *p++ != ',' || !parse_hex(&p, &addr)) {
        reply_str(&out, "E01");
        return;
    }
    if (type != 0)
        return;                                     /* empty reply: unsupported */
    struct breakpoint *b = find_breakpoint(addr);
    if (!insert) {
        if (b) {
            gdb_write_byte(addr, b->saved);
            b->used = false;
        }
        reply_str(&out, "OK");
        return;
    }
    if (b) {
        reply_str(&out, "OK");
        return;
    }
    for (int i = 0; i < MAX_BREAKPOINTS; i++) {
        if (bps[i].used)
            continue;
        if (!plant(addr, &bps[i].saved)) {
            reply_str(&out, "E14");
            return;
        }
        bps[i] = (struct breakpoint){addr, bps[i].saved, true};
        reply_str(&out, "OK");
        return;
    }
    reply_str(&out, "E28");                         /* ENOSPC */
}

static void remove_all_breakpoints(void)
{
    for (int i = 0; i < MAX_BREAKPOINTS; i++)
        if (bps[i].used) {
            gdb_write_byte(bps[i].addr, bps[i].saved);
            bps[i].used = false;
        }
}

/* ---- Ctrl-C: COM2 receive interrupt -> IOAPIC input 3 -> NMI ---- */

static void ioapic_write(uint32_t reg, uint32_t value)
{
    volatile uint32_t *ioapic = (volatile uint32_t *)IOAPIC_BASE;
    ioapic[0] = reg;                                /* IOREGSEL */
    ioapic[4] = value;                              /* IOWIN at +0x10 */
}

static void ctrl_c_route(bool on)
{
    uint32_t apic_id = cpuid(1, 0).ebx >> 24;       /* initial APIC ID, CPUID.1:EBX[31:24] */
    ioapic_write(IOAPIC_REDTBL(COM2_IRQ) + 1, apic_id << 24);
    ioapic_write(IOAPIC_REDTBL(COM2_IRQ), IOAPIC_DELIVERY_NMI | 2 | (on ? 0 : IOAPIC_MASKED));
}

static void uart_rx_interrupt(bool on)
{
    outb(GDB_PORT + UART_IER, on ? IER_RX_AVAILABLE : 0);
}

/* Stop here through int3, so the stop has a real trap frame. */
static void stop_here(int signal, bool quiet)
{
    gs.next_signal = signal;
    gs.next_quiet = quiet;
    asm volatile("int3" ::: "memory");
}

/*
 * A byte from gdb while the kernel runs: 0x03 is Ctrl-C; a '$' begins the first
 * packet of a gdb that attaches now (gdb=run). Returns 0, or 1 to stop and report
 * SIGINT, or 2 to stop quietly (gdb asks why itself).
 */
static int poll_gdb(void)
{
    while (serial_can_read(GDB_PORT)) {
        int c = inb(GDB_PORT);
        if (c == 0x03)
            return 1;
        if (c == '$') {
            gs.pending_dollar = true;
            return 2;
        }
    }
    return 0;
}

/* ---- the stop loop ---- */

static void send_stop_reply(int signal, bool swbreak)
{
    static const char *const fmt[] = {"T%02xthread:01;", "T%02xthread:01;swbreak:;"};
    char s[40];
    ksnprintf(s, sizeof(s), fmt[swbreak], signal);
    out.len = 0;
    out.overflow = false;
    reply_str(&out, s);
    send_packet(&out);
}

static bool is_vm_entry(uint64_t rip)
{
    uint8_t b[3];
    for (int i = 0; i < 3; i++)
        if (gdb_read_byte(rip + i, &b[i]) != NO_FAULT)
            return false;
    return b[0] == 0x0f && b[1] == 0x01 && (b[2] == 0xc2 || b[2] == 0xc3);
}

/*
 * Single step. After a successful VMLAUNCH/VMRESUME the next host instruction
 * is at HOST_RIP after the VM exit, with RFLAGS cleared (SDM Vol. 3C, 27.5.3),
 * so the trap flag alone would lose control: a temporary int3 at HOST_RIP
 * catches it. VMREAD of the current VMCS reads, never writes, guest state.
 */
static void single_step(struct trap_frame *f)
{
    f->rflags |= RFLAGS_TF;
    if (!is_vm_entry(f->rip))
        return;
    uint64_t host_rip;
    if (vmread_safe(VMCS_HOST_RIP, &host_rip) && plant(host_rip, &gs.step_bp_saved))
        gs.step_bp = host_rip;
}

static void clear_step(struct trap_frame *f)
{
    f->rflags &= ~RFLAGS_TF;
    if (gs.step_bp) {
        gdb_write_byte(gs.step_bp, gs.step_bp_saved);
        gs.step_bp = 0;
    }
}

static void query(const char *q)
{
    if (!strncmp(q, "Supported", 9))
        reply_str(&out, "PacketSize=1000;qXfer:features:read+;swbreak+;QStartNoAckMode+");
    else if (!strncmp(q, "Xfer:features:read:", 19)) {
        const char *p = strchr(q + 19, ':');
        uint64_t off, len;
        char annex[32];
        size_t n = p ? (size_t)(p - (q + 19)) : 0;
        if (!p || n >= sizeof(annex) || (p++, !parse_hex(&p, &off)) || *p++ != ',' ||
            !parse_hex(&p, &len)) {
            reply_str(&out, "E00");
            return;
        }
        memcpy(annex, q + 19, n);
        annex[n] = '\0';
        regs_target_xml(&out, annex, off, len);
    } else if (!strcmp(q, "Attached"))
        reply_str(&out, "1");                       /* quitting gdb detaches, never kills */
    else if (!strcmp(q, "C"))
        reply_str(&out, "QC01");
    else if (!strcmp(q, "fThreadInfo"))
        reply_str(&out, "m01");
    else if (!strcmp(q, "sThreadInfo"))
        reply_str(&out, "l");
    else if (!strncmp(q, "Symbol", 6))
        reply_str(&out, "OK");
    else if (!strncmp(q, "Rcmd,", 5)) {
        static char cmd[256];
        size_t n = strlen(q + 5) / 2;
        if (n >= sizeof(cmd) || !unhex(q + 5, cmd, n)) {
            reply_str(&out, "E01");
            return;
        }
        cmd[n] = '\0';
        monitor_command(cmd);
        reply_str(&out, "OK");
    }
}

static void detach(struct trap_frame *f)
{
    remove_all_breakpoints();
    clear_step(f);
    gs.attached = false;
    ctrl_c_route(false);
}

/* Handles one packet; true when gdb resumed the kernel. */
static bool handle_packet(struct trap_frame *f)
{
    const char *p = in + 1;
    uint64_t n;
    out.len = 0;
    out.overflow = false;
    switch (in[0]) {
    case '?':
        reply_str(&out, "S05");
        break;
    case 'g':
        regs_read_all(&out, f);
        break;
    case 'G':
        reply_str(&out, regs_write_all(f, p) ? "OK" : "E01");
        break;
    case 'p':
        if (!parse_hex(&p, &n) || !regs_read_one(&out, f, n))
            reply_str(&out, "E01");
        break;
    case 'P':
        reply_str(&out, parse_hex(&p, &n) && *p++ == '=' && regs_write_one(f, n, p) ? "OK" : "E01");
        break;
    case 'm':
        read_memory(p);
        break;
    case 'M':
        write_memory(p);
        break;
    case 'Z':
    case 'z':
        breakpoint_packet(in[0] == 'Z', p);
        break;
    case 'C':
    case 'S':                                       /* "C sig;addr": the signal is ignored */
        p = strchr(p, ';');
        p = p ? p + 1 : "";
        /* fall through */
    case 'c':
    case 's':
        if (parse_hex(&p, &n))
            f->rip = n;
        if (in[0] == 's' || in[0] == 'S')
            single_step(f);
        return true;
    case 'D':
        reply_str(&out, "OK");
        send_packet(&out);
        detach(f);
        return true;
    case 'k':
        gs.attached = false;                        /* gdb has gone: never write to COM2 again */
        kprintf("gdb: killed by the debugger\n");
        poweroff(STATUS_FAIL);
    case 'v':
        if (!strncmp(p, "Kill", 4)) {
            reply_str(&out, "OK");
            send_packet(&out);
            gs.attached = false;
            kprintf("gdb: killed by the debugger\n");
            poweroff(STATUS_FAIL);
        }
        break;                                      /* vCont? etc.: empty, gdb uses c/s */
    case 'H':
    case 'T':
        reply_str(&out, "OK");
        break;
    case 'q':
        query(p);
        break;
    case 'Q':
        if (!strcmp(p, "StartNoAckMode")) {
            reply_str(&out, "OK");
            send_packet(&out);
            gs.no_ack = true;
            return false;
        }
        break;
    default:
        break;                                      /* empty reply: not supported */
    }
    if (out.overflow) {
        out.len = 0;
        reply_str(&out, "E07");
    }
    send_packet(&out);
    return false;
}

/*
 * The kernel stops here: tell gdb why (unless gdb is about to ask), then obey
 * its packets until it resumes. A fault-recovery sequence of the interrupted
 * code (fault_arm ... fault_take) must survive the stub's own safe accesses.
 */
static void stop(struct trap_frame *f, int signal, bool swbreak, bool quiet)
{
    struct caught_fault interrupted = caught_fault;
    gs.in_stub = true;
    uart_rx_interrupt(false);
    clear_step(f);
    if (!quiet)
        send_stop_reply(signal, swbreak);
    do
        read_packet();
    while (!handle_packet(f));
    caught_fault = interrupted;
    gs.in_stub = false;
    if (gs.attached)
        uart_rx_interrupt(true);
}

/* ---- trap handlers ---- */

/* #BP: a planted breakpoint (back up over the int3), or a hard-coded int3. */
static void on_breakpoint(struct trap_frame *f)
{
    uint64_t at = f->rip - 1;
    struct breakpoint *b = find_breakpoint(at);
    int signal = gs.next_signal ? gs.next_signal : GDB_SIGTRAP;
    bool quiet = gs.next_quiet;
    gs.next_signal = 0;
    gs.next_quiet = false;
    if (gs.step_bp && at == gs.step_bp) {           /* the step over VM entry landed */
        f->rip = at;
        stop(f, GDB_SIGTRAP, false, false);
        return;
    }
    if (gs.in_stub || !gs.attached) {
        /* A breakpoint in code the stub itself runs, or a leftover: skip it. */
        if (b) {
            gdb_write_byte(at, b->saved);
            f->rip = at;
        }
        return;
    }
    if (b)
        f->rip = at;                                /* gdb sees the breakpoint's address */
    stop(f, signal, b != 0, quiet);
}

/* #DB: the single step finished (DR6.BS), or some other debug event. */
static void on_debug(struct trap_frame *f)
{
    uint64_t dr6;
    asm volatile("mov %%dr6, %0" : "=r"(dr6));
    asm volatile("mov %0, %%dr6" :: "r"(0xffff0ff0ul));    /* reserved bits read as 1 */
    if (gs.in_stub || !gs.attached) {
        f->rflags &= ~RFLAGS_TF;
        return;
    }
    stop(f, GDB_SIGTRAP, false, false);
}

/* The NMI interrupted the kernel where it was: gdb sees exactly that place. */
static void on_nmi(struct trap_frame *f)
{
    int why = gs.attached && !gs.in_stub && !gs.guest_running ? poll_gdb() : 0;
    if (why)
        stop(f, GDB_SIGINT, false, why == 2);
}

static int signal_for(uint64_t vector)
{
    switch (vector) {
    case EXC_DE:
    case EXC_MF:
    case EXC_XM:
        return GDB_SIGFPE;
    case EXC_UD:
        return GDB_SIGILL;
    case EXC_AC:
        return GDB_SIGBUS;
    case EXC_TS:
    case EXC_NP:
    case EXC_SS:
    case EXC_GP:
    case EXC_PF:
        return GDB_SIGSEGV;
    default:
        return GDB_SIGABRT;
    }
}

/* A fatal exception: show it in gdb first. If gdb moved RIP on, resume there. */
static void on_fatal(struct trap_frame *f)
{
    uint64_t rip = f->rip;
    if (gs.attached && !gs.in_stub)
        stop(f, signal_for(f->vector), false, false);
    if (f->rip != rip)
        return;
    panic_frame(f, "unexpected exception %s (%s, vector %lu), error code 0x%lx at RIP 0x%lx",
                exception_mnemonic((int)f->vector), exception_name((int)f->vector),
                f->vector, f->error_code, f->rip);
}

/* ---- the interface ---- */

void gdbstub_init(void)
{
    char mode[8];
    if (!cmdline_get("gdb", mode, sizeof(mode)) || !strcmp(mode, "0"))
        return;
    bool wait = strcmp(mode, "run") != 0;
    serial_init(GDB_PORT);
    outb(GDB_PORT + UART_MCR, MCR_DTR_RTS_OUT2);
    for (int v = 0; v < 32; v++)
        if (v != EXC_DB && v != EXC_NMI && v != EXC_BP)
            trap_register(v, on_fatal);
    trap_register(EXC_BP, on_breakpoint);
    trap_register(EXC_DB, on_debug);
    trap_register(EXC_NMI, on_nmi);
    outb(PIC1_DATA, inb(PIC1_DATA) | 1u << COM2_IRQ);   /* the NMI route only, never the PIC */
    gs.armed = gs.attached = true;
    ctrl_c_route(true);
    kprintf("gdb: stub on COM2 (I/O port 0x%x), %s\n", GDB_PORT,
            wait ? "waiting for gdb to attach" : "running; attach gdb at any time");
    if (wait)
        stop_here(GDB_SIGTRAP, true);
    else
        uart_rx_interrupt(true);
}

bool gdbstub_active(void)
{
    return gs.armed && gs.attached;
}

void gdbstub_breakpoint(void)
{
    if (gdbstub_active())
        stop_here(GDB_SIGTRAP, false);
}

void gdbstub_panic(void)
{
    if (gdbstub_active() && !gs.in_stub)
        stop_here(GDB_SIGABRT, false);
}

void gdbstub_exit(int status)
{
    if (!gdbstub_active() || gs.in_stub)
        return;
    char s[8];
    ksnprintf(s, sizeof(s), "W%02x", status & 0xff);
    out.len = 0;
    out.overflow = false;
    reply_str(&out, s);
    send_packet(&out);
    /* Power-off follows at once: let the last byte leave the UART first. */
    while (!(inb(GDB_PORT + UART_LSR) & LSR_TX_EMPTY))
        cpu_relax();
    gs.attached = false;                            /* gdb closes the connection now */
}

void gdbstub_guest_enter(void)
{
    if (!gdbstub_active())
        return;
    gs.guest_running = true;
    ctrl_c_route(false);
}

void gdbstub_guest_exit(void)
{
    if (!gdbstub_active())
        return;
    gs.guest_running = false;
    ctrl_c_route(true);
    int why = poll_gdb();
    if (why)
        stop_here(GDB_SIGINT, why == 2);
}
