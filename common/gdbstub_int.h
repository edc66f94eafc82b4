/* gdbstub_int.h: what the parts of the gdb stub share: hex helpers, the reply
 * buffer, register access and monitor commands (gdbstub.c, gdbstub_regs.c). */
#ifndef GDBSTUB_INT_H
#define GDBSTUB_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "trap.h"

#define GDB_PACKET_MAX 4096       /* announced to gdb as PacketSize */

/* gdb's own signal numbers (gdb/signals.def), not the host's. */
enum {
    GDB_SIGINT = 2, GDB_SIGILL = 4, GDB_SIGTRAP = 5, GDB_SIGABRT = 6,
    GDB_SIGFPE = 8, GDB_SIGBUS = 10, GDB_SIGSEGV = 11,
};

/* A reply under construction (gdbstub.c sends it). */
struct gdb_reply {
    char buf[GDB_PACKET_MAX + 1];
    size_t len;
    bool overflow;
};

void reply_str(struct gdb_reply *r, const char *s);
void reply_char(struct gdb_reply *r, char c);
void reply_hex(struct gdb_reply *r, const void *data, size_t n);  /* bytes as hex */
int hex_digit(char c);                                              /* -1 if not hex */
/* Parse hex digits at *p into *v; advances *p; false when there are none. */
bool parse_hex(const char **p, uint64_t *v);
/* Decode 2*n hex digits at s into out; false on a bad digit. */
bool unhex(const char *s, void *out, size_t n);

/* Memory through fault recovery: a bad address returns a vector, never crashes. */
int gdb_read_byte(uint64_t addr, uint8_t *v);
int gdb_write_byte(uint64_t addr, uint8_t v);

/* gdbstub_regs.c: the register set that target.xml describes. */
void regs_target_xml(struct gdb_reply *r, const char *annex, uint64_t off, uint64_t len);
void regs_read_all(struct gdb_reply *r, const struct trap_frame *f);          /* 'g' */
bool regs_write_all(struct trap_frame *f, const char *hex);                    /* 'G' */
bool regs_read_one(struct gdb_reply *r, const struct trap_frame *f, uint64_t n); /* 'p' */
bool regs_write_one(struct trap_frame *f, uint64_t n, const char *hex);        /* 'P' */

/* VMREAD of the current VMCS; false on VMfail or outside VMX operation. */
bool vmread_safe(uint64_t field, uint64_t *value);

/* gdbstub_regs.c: "monitor ..." commands; output goes through gdb_console(). */
void monitor_command(const char *cmd);
void gdb_console(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
