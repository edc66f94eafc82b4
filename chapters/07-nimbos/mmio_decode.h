/* mmio_decode.h: just enough x86 decoding to emulate an access to an MMIO page: the MOV forms
 * compilers emit for volatile loads and stores. (Stand-in until chapter 06's decoder lands.) */
#ifndef CH07_MMIO_DECODE_H
#define CH07_MMIO_DECODE_H

#include <stdbool.h>
#include <stdint.h>

struct mmio_insn {
    unsigned len;                /* bytes of the instruction, prefixes included */
    unsigned size;               /* bytes accessed in memory: 1, 2, 4 or 8 */
    bool write;                  /* a store to the device */
    int reg;                     /* the register (0 RAX .. 15 R15) loaded or stored; -1: imm */
    bool high_byte;              /* AH, CH, DH, BH: reg 0-3, bits 15:8 */
    unsigned dest_size;          /* a load: bytes of the destination register written */
    uint64_t imm;                /* a store of an immediate */
};

/* Decode code[0 .. n) in 64-bit mode (long) or 32-bit protected mode. Returns 0, or -1
 * for anything but MOV/MOVZX between a register or immediate and memory. */
int mmio_decode(const uint8_t *code, unsigned n, bool long_mode, struct mmio_insn *out);

#endif
