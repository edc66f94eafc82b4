/* vmx_check_priv.h: what vmx_check.c and vmx_check_guest.c share: the checker's state and
 * the small predicates the SDM's checks are made of. Not for use outside the checker. */
#ifndef VMX_CHECK_PRIV_H
#define VMX_CHECK_PRIV_H

#include "vmcs_field.h"
#include "vmx_check.h"
#include "vmx_exit.h"
#include "vmx_insn.h"

struct checker {
    const struct vmcs_reader *r;
    const struct vmx_check_env *env;
    struct entry_verdict *v;
    uint32_t pin, proc, proc2, exit, entry;      /* proc2 is 0 unless activated */
    bool ia32e_guest, unrestricted, host64;
};

static inline uint64_t rd(struct checker *c, uint32_t field)
{
    return c->r->read(c->r->ctx, field);
}

/* Record the first violation; returns true so that callers can "return fail(...)". */
bool check_fail(struct checker *c, enum entry_outcome outcome, uint32_t code, uint64_t qual,
                const char *section, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

#define FAIL_CONTROL(c, section, ...) \
    check_fail(c, ENTRY_VMFAIL, VMXERR_ENTRY_INVALID_CONTROL_FIELD, 0, section, __VA_ARGS__)
#define FAIL_HOST(c, section, ...) \
    check_fail(c, ENTRY_VMFAIL, VMXERR_ENTRY_INVALID_HOST_STATE_FIELD, 0, section, __VA_ARGS__)
#define FAIL_GUEST(c, section, ...) \
    check_fail(c, ENTRY_FAIL_EXIT, EXIT_REASON_INVALID_STATE, ENTRY_FAIL_DEFAULT, section, __VA_ARGS__)

/* Count a check that ran; `failed` is whether it found a violation. */
static inline bool counted(struct checker *c, bool failed)
{
    c->v->checks++;
    return failed;
}

/* 64-bit addresses: sign-extended from bit 47 (4-level paging, SDM Vol. 3A, 3.3.7.1). */
static inline bool is_canonical(uint64_t a)
{
    return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

static inline bool fits_phys(const struct checker *c, uint64_t pa)
{
    return c->env->phys_bits >= 64 || (pa >> c->env->phys_bits) == 0;
}

/* A physical address with bits 11:0 clear within the physical-address width. */
static inline bool page_address_ok(const struct checker *c, uint64_t pa)
{
    return (pa & 0xfff) == 0 && fits_phys(c, pa);
}

/* Every byte of an IA32_PAT value a valid memory type: 0, 1, 4, 5, 6, 7 (Vol. 3A, 11.12.2). */
static inline bool pat_ok(uint64_t pat)
{
    for (int i = 0; i < 8; i++) {
        uint8_t t = (uint8_t)(pat >> (8 * i));
        if (t == 2 || t == 3 || t > 7)
            return false;
    }
    return true;
}

/* IA32_EFER bits a VMCS may hold: SCE, LME, LMA, NXE (Vol. 3A, 2.2.1). */
#define EFER_VALID_BITS 0xd01ull

bool check_guest_state(struct checker *c);       /* 26.3.1 */
bool check_msr_load(struct checker *c);          /* 26.4 */

#endif
