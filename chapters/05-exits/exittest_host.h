/* exittest_host.h: the hypervisor's side of the exittest protocol (guests/exittest/exittest.h):
 * the state of one guest run and the functions that turn its reports into checkpoints. */
#ifndef EXITTEST_HOST_H
#define EXITTEST_HOST_H

#include "exittest.h"
#include "image_check.h"
#include "vm.h"
#include "vm_console.h"

struct exittest {
    struct vm vm;
    uint64_t seed;
    unsigned mode;
    /* memory */
    uint8_t *mem;
    size_t pages;
    uint64_t *pml4, *lazy_pte;
    uint8_t *lazy_page;
    uint64_t entry, stack_top;
    /* devices */
    struct vm_console console;
    uint32_t echo_latch;
    struct io_access echo_log[24];
    unsigned echo_n;
    uint64_t apic_base;
    uint8_t timer_vector;
    uint64_t timer_delay, timer_left;
    /* what handlers noticed */
    uint64_t lazy_faults;
    uint32_t pf_vectoring;
    uint8_t exc_type[2];                 /* [0] #UD, [1] #BP */
    uint32_t exc_len[2];
    uint64_t ne_cleared_real_cr0;        /* the real CR0 while the guest believed NE = 0 */
    /* the VM's counters at the previous report, for per-test differences */
    struct vm prev;
    unsigned reports;
};

uint64_t run_seed(void);                 /* the run's nonce as a number */
void exittest_log_io(struct exittest *t, const struct io_access *a);
void exittest_report_controls(struct exittest *t, const struct vcpu_config *c);
void exittest_report(struct exittest *t, int test, const uint64_t *v, unsigned n);
/* After the VM stopped: the run's checkpoints; true if it stopped the way its mode should. */
bool exittest_finish(struct exittest *t, enum vm_stop_kind stop);
enum vcpu_action exittest_cr_access(struct vm *vm);

#endif
