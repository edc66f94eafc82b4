/* guest_mem.h: the guest's memory as the hypervisor sees it: guest-physical addresses to host
 * pointers (a hook: identity here, EPT in chapter 06), and reads through the guest's paging. */
#ifndef GUEST_MEM_H
#define GUEST_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guest_walk.h"

struct vm;

/*
 * Where guest-physical address gpa lives in the host: a pointer valid up to the end of
 * its 4 KiB page, or NULL when no RAM is there (MMIO, a hole). Without EPT a guest's
 * "physical" addresses are host-physical, so the default is the identity over host RAM.
 */
typedef void *(*vm_gpa_to_hva_fn)(struct vm *vm, uint64_t gpa);

struct vm_mem {
    vm_gpa_to_hva_fn gpa_to_hva;
    void *ctx;                   /* for the translator (chapter 06: its EPT) */
};

void vm_mem_init(struct vm *vm);                  /* the identity translator */
void *vm_gpa_to_hva(struct vm *vm, uint64_t gpa);

/* The guest's IA32_EFER: GUEST_IA32_EFER when VM entry loads it, else the host's with LME
 * and LMA as "IA-32e mode guest" says. */
uint64_t vm_guest_efer(struct vm *vm);

/* The guest's paging registers and CPL as they are now (GUEST_CR0/3/4, EFER, SS). */
void vm_guest_paging(struct vm *vm, struct guest_paging *p);

/*
 * Copy n bytes from or to guest-linear address la through the guest's page tables,
 * page by page. Returns 0, or -1 with *walk saying why (a #PF the guest's paging would
 * raise, or a paging structure or page without RAM behind it).
 */
int vm_read_guest(struct vm *vm, uint64_t la, void *buf, size_t n, struct guest_walk *walk);
int vm_write_guest(struct vm *vm, uint64_t la, const void *buf, size_t n, struct guest_walk *walk);
/* The same with an access kind (PFERR_FETCH for instruction bytes). */
int vm_access_guest(struct vm *vm, uint64_t la, void *buf, size_t n, uint32_t access,
                    struct guest_walk *walk);

/* Guest-linear address of the current instruction: CS.base + RIP (base 0 in 64-bit mode). */
uint64_t vm_guest_rip_linear(struct vm *vm);

#endif
