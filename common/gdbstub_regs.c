/* gdbstub_regs.c: the gdb stub's register set (the target description gdb reads,
 * 'g'/'p' packets), hex encoding, memory access with fault recovery, monitor commands. */
#include <stddef.h>

#include "gdbstub_int.h"
#include "kernel.h"

/* ---- hex and replies ---- */

static const char hexdigits[] = "0123456789abcdef";

int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool parse_hex(const char **p, uint64_t *v)
{
    const char *s = *p;
    *v = 0;
    while (hex_digit(*s) >= 0)
        *v = (*v << 4) | (uint64_t)hex_digit(*s++);
    bool any = s != *p;
    *p = s;
    return any;
}

bool unhex(const char *s, void *out_bytes, size_t n)
{
    uint8_t *o = out_bytes;
    for (size_t i = 0; i < n; i++) {
        int h = hex_digit(s[2 * i]), l = h < 0 ? -1 : hex_digit(s[2 * i + 1]);
        if (l < 0)
            return false;
        o[i] = (uint8_t)(h << 4 | l);
    }
    return true;
}

void reply_char(struct gdb_reply *r, char c)
{
    if (r->len < GDB_PACKET_MAX)
        r->buf[r->len++] = c;
    else
        r->overflow = true;
}

void reply_str(struct gdb_reply *r, const char *s)
{
    while (*s)
        reply_char(r, *s++);
}

void reply_hex(struct gdb_reply *r, const void *data, size_t n)
{
    const uint8_t *d = data;
    for (size_t i = 0; i < n; i++) {
        reply_char(r, hexdigits[d[i] >> 4]);
        reply_char(r, hexdigits[d[i] & 15]);
    }
}

/* ---- memory, with fault recovery: gdb may ask for any address ---- */

int gdb_read_byte(uint64_t addr, uint8_t *v)
{
    uint8_t x = 0;
    fault_arm();
    asm volatile("1: movb (%1), %0\n2:\n" EXTABLE(1b, 2b) : "+q"(x) : "r"(addr) : "memory");
    *v = x;
    return fault_take();
}

int gdb_write_byte(uint64_t addr, uint8_t v)
{
    fault_arm();
    asm volatile("1: movb %0, (%1)\n2:\n" EXTABLE(1b, 2b) :: "q"(v), "r"(addr) : "memory");
    return fault_take();
}

/* ---- the target description (gdb manual, "Target Descriptions", "i386 Features") ----
 *
 * gdb reads it with qXfer:features:read:target.xml, so it never guesses the
 * architecture or the size of the 'g' packet from the ELF file; the register
 * numbers in the packets are the order below. x87 and SSE registers exist because
 * gdb's amd64 support requires them; kernels here never use them (built with
 * -mgeneral-regs-only), so they read as unavailable. The control registers are
 * read-only extras: "p $cr4" shows whether CR4.VMXE is set.
 */
#define R64(n, t) "<reg name=\"" n "\" bitsize=\"64\" type=\"" t "\"/>"
#define R32(n, t) "<reg name=\"" n "\" bitsize=\"32\" type=\"" t "\"/>"
#define R80(n) "<reg name=\"" n "\" bitsize=\"80\" type=\"i387_ext\"/>"
#define F(bit, name) "<field name=\"" name "\" start=\"" #bit "\" end=\"" #bit "\"/>"

static const char target_xml[] =
    "<?xml version=\"1.0\"?><!DOCTYPE target SYSTEM \"gdb-target.dtd\">"
    "<target version=\"1.0\"><architecture>i386:x86-64</architecture>"
    "<feature name=\"org.gnu.gdb.i386.core\">"
    "<flags id=\"i386_eflags\" size=\"4\">"
    F(0, "CF") F(2, "PF") F(4, "AF") F(6, "ZF") F(7, "SF") F(8, "TF") F(9, "IF") F(10, "DF")
    F(11, "OF") F(14, "NT") F(16, "RF") F(17, "VM") F(18, "AC") F(19, "VIF") F(20, "VIP")
    F(21, "ID") "</flags>"
    R64("rax", "int64") R64("rbx", "int64") R64("rcx", "int64") R64("rdx", "int64")
    R64("rsi", "int64") R64("rdi", "int64") R64("rbp", "data_ptr") R64("rsp", "data_ptr")
    R64("r8", "int64") R64("r9", "int64") R64("r10", "int64") R64("r11", "int64")
    R64("r12", "int64") R64("r13", "int64") R64("r14", "int64") R64("r15", "int64")
    R64("rip", "code_ptr") R32("eflags", "i386_eflags")
    R32("cs", "int32") R32("ss", "int32") R32("ds", "int32") R32("es", "int32")
    R32("fs", "int32") R32("gs", "int32")
    R80("st0") R80("st1") R80("st2") R80("st3") R80("st4") R80("st5") R80("st6") R80("st7")
    R32("fctrl", "int") R32("fstat", "int") R32("ftag", "int") R32("fiseg", "int")
    R32("fioff", "int") R32("foseg", "int") R32("fooff", "int") R32("fop", "int")
    "</feature>"
    "<feature name=\"org.gnu.gdb.i386.sse\">"
    "<vector id=\"v2i64\" type=\"int64\" count=\"2\"/>"
    "<union id=\"vec128\"><field name=\"v2_int64\" type=\"v2i64\"/>"
    "<field name=\"uint128\" type=\"uint128\"/></union>"
    "<flags id=\"i386_mxcsr\" size=\"4\">" F(0, "IE") F(1, "DE") F(2, "ZE") F(3, "OE")
    F(4, "UE") F(5, "PE") F(6, "DAZ") F(7, "IM") F(8, "DM") F(9, "ZM") F(10, "OM")
    F(11, "UM") F(12, "PM") F(15, "FZ") "</flags>"
#define X(n) "<reg name=\"xmm" #n "\" bitsize=\"128\" type=\"vec128\"/>"
    X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13) X(14) X(15)
#undef X
    "<reg name=\"mxcsr\" bitsize=\"32\" type=\"i386_mxcsr\" group=\"vector\"/>"
    "</feature>"
    "<feature name=\"org.gnu.gdb.i386.segments\">"
    R64("fs_base", "int") R64("gs_base", "int") "</feature>"
    "<feature name=\"org.hvt.x86.control\">"
    "<flags id=\"hvt_cr0\" size=\"8\">" F(0, "PE") F(1, "MP") F(2, "EM") F(3, "TS") F(4, "ET")
    F(5, "NE") F(16, "WP") F(18, "AM") F(29, "NW") F(30, "CD") F(31, "PG") "</flags>"
    "<flags id=\"hvt_cr4\" size=\"8\">" F(0, "VME") F(1, "PVI") F(2, "TSD") F(3, "DE")
    F(4, "PSE") F(5, "PAE") F(6, "MCE") F(7, "PGE") F(8, "PCE") F(9, "OSFXSR")
    F(10, "OSXMMEXCPT") F(11, "UMIP") F(12, "LA57") F(13, "VMXE") F(14, "SMXE")
    F(16, "FSGSBASE") F(17, "PCIDE") F(18, "OSXSAVE") F(20, "SMEP") F(21, "SMAP")
    F(22, "PKE") "</flags>"
    "<flags id=\"hvt_efer\" size=\"8\">" F(0, "SCE") F(8, "LME") F(10, "LMA") F(11, "NXE")
    "</flags>"
    R64("cr0", "hvt_cr0") R64("cr2", "data_ptr") R64("cr3", "int") R64("cr4", "hvt_cr4")
    R64("efer", "hvt_efer") "</feature></target>";

enum {
    REG_RSP = 7, REG_RIP = 16, REG_EFLAGS, REG_CS, REG_SS, REG_DS, REG_ES, REG_FS, REG_GS,
    REG_ST0, REG_FCTRL = REG_ST0 + 8, REG_XMM0 = REG_FCTRL + 8, REG_MXCSR = REG_XMM0 + 16,
    REG_FS_BASE, REG_GS_BASE, REG_CR0, REG_CR2, REG_CR3, REG_CR4, REG_EFER, REG_COUNT,
};
#define G_PACKET_REGS (REG_GS + 1)     /* 'g' stops here; gdb asks for the rest with 'p' */

static const uint8_t gpr_offset[16] = {
    offsetof(struct trap_frame, rax), offsetof(struct trap_frame, rbx),
    offsetof(struct trap_frame, rcx), offsetof(struct trap_frame, rdx),
    offsetof(struct trap_frame, rsi), offsetof(struct trap_frame, rdi),
    offsetof(struct trap_frame, rbp), offsetof(struct trap_frame, rsp),
    offsetof(struct trap_frame, r8), offsetof(struct trap_frame, r9),
    offsetof(struct trap_frame, r10), offsetof(struct trap_frame, r11),
    offsetof(struct trap_frame, r12), offsetof(struct trap_frame, r13),
    offsetof(struct trap_frame, r14), offsetof(struct trap_frame, r15),
};

void regs_target_xml(struct gdb_reply *r, const char *annex, uint64_t off, uint64_t len)
{
    size_t total = sizeof(target_xml) - 1;
    if (strcmp(annex, "target.xml")) {
        reply_str(r, "E00");
        return;
    }
    if (len > GDB_PACKET_MAX - 1)
        len = GDB_PACKET_MAX - 1;
    if (off >= total) {
        reply_char(r, 'l');
        return;
    }
    reply_char(r, off + len >= total ? 'l' : 'm');     /* 'l': this is the last part */
    for (uint64_t i = off; i < off + len && i < total; i++)
        reply_char(r, target_xml[i]);                   /* the XML has no '$', '#', '}' or '*' */
}

static size_t reg_size(uint64_t n)
{
    if (n >= REG_ST0 && n < REG_FCTRL)
        return 10;
    if (n >= REG_XMM0 && n < REG_MXCSR)
        return 16;
    if ((n >= REG_EFLAGS && n <= REG_GS) || (n >= REG_FCTRL && n < REG_XMM0) || n == REG_MXCSR)
        return 4;
    return 8;
}

/* The value of register n; false when the stub cannot know it (x87, SSE). */
static bool reg_value(const struct trap_frame *f, uint64_t n, uint64_t *v)
{
    if (n < 16) {
        *v = *(const uint64_t *)((const char *)f + gpr_offset[n]);
        return true;
    }
    switch (n) {
    case REG_RIP: *v = f->rip; return true;
    case REG_EFLAGS: *v = f->rflags; return true;
    case REG_CS: *v = f->cs; return true;
    case REG_SS: *v = f->ss; return true;
    case REG_DS: *v = read_ds(); return true;
    case REG_ES: *v = read_es(); return true;
    case REG_FS: *v = read_fs(); return true;
    case REG_GS: *v = read_gs(); return true;
    case REG_FS_BASE: return rdmsr_safe(MSR_FS_BASE, v) == NO_FAULT;
    case REG_GS_BASE: return rdmsr_safe(MSR_GS_BASE, v) == NO_FAULT;
    case REG_CR0: *v = read_cr0(); return true;
    case REG_CR2: *v = read_cr2(); return true;
    case REG_CR3: *v = read_cr3(); return true;
    case REG_CR4: *v = read_cr4(); return true;
    case REG_EFER: return rdmsr_safe(MSR_EFER, v) == NO_FAULT;
    default: return false;
    }
}

static void reply_reg(struct gdb_reply *r, const struct trap_frame *f, uint64_t n)
{
    uint64_t v;
    size_t size = reg_size(n);
    if (!reg_value(f, n, &v)) {
        for (size_t i = 0; i < 2 * size; i++)
            reply_char(r, 'x');                         /* "unavailable" */
        return;
    }
    reply_hex(r, &v, size);                             /* little-endian, like the target */
}

void regs_read_all(struct gdb_reply *r, const struct trap_frame *f)
{
    for (uint64_t n = 0; n < G_PACKET_REGS; n++)
        reply_reg(r, f, n);
}

bool regs_read_one(struct gdb_reply *r, const struct trap_frame *f, uint64_t n)
{
    if (n >= REG_COUNT)
        return false;
    reply_reg(r, f, n);
    return true;
}

/* Writable: the general registers, RIP and RFLAGS (all in the trap frame), FS/GS base. */
bool regs_write_one(struct trap_frame *f, uint64_t n, const char *hex)
{
    uint64_t v = 0;
    size_t size = reg_size(n);
    if (n >= REG_COUNT || size > 8 || strlen(hex) != 2 * size || !unhex(hex, &v, size))
        return false;
    if (n < 16) {
        *(uint64_t *)((char *)f + gpr_offset[n]) = v;
        return true;
    }
    switch (n) {
    case REG_RIP: f->rip = v; return true;
    case REG_EFLAGS: f->rflags = (f->rflags & ~0xffffffffull) | v | RFLAGS_FIXED; return true;
    case REG_FS_BASE: return wrmsr_safe(MSR_FS_BASE, v) == NO_FAULT;
    case REG_GS_BASE: return wrmsr_safe(MSR_GS_BASE, v) == NO_FAULT;
    default: return false;          /* segment and control registers: not from gdb */
    }
}

bool regs_write_all(struct trap_frame *f, const char *hex)
{
    char one[17];
    for (uint64_t n = 0; n <= REG_EFLAGS && *hex; n++) {
        size_t len = 2 * reg_size(n);
        if (strlen(hex) < len)
            return false;
        memcpy(one, hex, len);
        one[len] = '\0';
        if (!regs_write_one(f, n, one))
            return false;
        hex += len;
    }
    return true;            /* the segment registers that follow are left alone */
}

/* ---- monitor commands: "monitor vmx" in gdb ---- */

/* SDM Vol. 3D, appendix B: a few fields worth seeing at every stop. */
static const struct {
    uint32_t encoding;
    const char *name;
} vmx_fields[] = {
    {0x4400, "VM_INSTRUCTION_ERROR"}, {0x4402, "VM_EXIT_REASON"},
    {0x6400, "EXIT_QUALIFICATION"}, {0x4404, "VM_EXIT_INTR_INFO"},
    {0x440c, "VM_EXIT_INSTRUCTION_LEN"}, {0x681e, "GUEST_RIP"}, {0x681c, "GUEST_RSP"},
    {0x6820, "GUEST_RFLAGS"}, {0x6800, "GUEST_CR0"}, {0x6804, "GUEST_CR4"},
    {0x6c16, "HOST_RIP"}, {0x6c14, "HOST_RSP"},
};

/* VMREAD of the current VMCS; false on VMfail (no current VMCS, bad field). */
bool vmread_safe(uint64_t field, uint64_t *value)
{
    uint8_t fail = 1;
    fault_arm();
    asm volatile("1: vmread %2, %0\n\tsetbe %1\n2:\n" EXTABLE(1b, 2b)
                 : "=r"(*value), "+q"(fail) : "r"(field) : "cc", "memory");
    return fault_take() == NO_FAULT && !fail;
}

static void monitor_vmx(void)
{
    uint64_t cr4 = read_cr4(), vmcs = ~0ull;
    gdb_console("CR4.VMXE = %d\n", (int)!!(cr4 & CR4_VMXE));
    /* VMPTRST raises #UD outside VMX operation (SDM Vol. 3C, 30.3): that answers the question. */
    fault_arm();
    asm volatile("1: vmptrst %0\n2:\n" EXTABLE(1b, 2b) : "+m"(vmcs) :: "memory");
    if (fault_take() != NO_FAULT) {
        gdb_console("not in VMX operation (VMPTRST raised #UD)\n");
        return;
    }
    if (vmcs == ~0ull) {
        gdb_console("VMX root operation, no current VMCS (VMPTRST gives all ones)\n");
        return;
    }
    gdb_console("VMX root operation, current VMCS 0x%lx\n", vmcs);
    for (size_t i = 0; i < ARRAY_SIZE(vmx_fields); i++) {
        uint64_t v;
        if (vmread_safe(vmx_fields[i].encoding, &v))
            gdb_console("  %-24s 0x%lx\n", vmx_fields[i].name, v);
    }
}

static void monitor_vmread(const char *arg)
{
    uint64_t field, v;
    while (*arg == ' ')
        arg++;
    if (arg[0] == '0' && (arg[1] == 'x' || arg[1] == 'X'))
        arg += 2;
    if (!parse_hex(&arg, &field))
        gdb_console("usage: monitor vmread ENCODING (hex, SDM Vol. 3D appendix B)\n");
    else if (!vmread_safe(field, &v))
        gdb_console("VMREAD 0x%lx failed (not in VMX operation, no current VMCS, or no such field)\n",
                    field);
    else
        gdb_console("0x%lx = 0x%lx\n", field, v);
}

void monitor_command(const char *cmd)
{
    if (!strcmp(cmd, "vmx"))
        monitor_vmx();
    else if (!strncmp(cmd, "vmread", 6))
        monitor_vmread(cmd + 6);
    else
        gdb_console("monitor commands of the kernel's gdb stub:\n"
                    "  vmx             VMX state and the current VMCS's exit fields\n"
                    "  vmread ENC      VMREAD one field of the current VMCS (hex encoding)\n");
}
