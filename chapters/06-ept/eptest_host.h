/* eptest_host.h: the hypervisor's side of the eptest protocol (guests/eptest/eptest.h): the state
 * of one guest run and the functions that turn reports and EPT facts into checkpoints. */
#ifndef EPTEST_HOST_H
#define EPTEST_HOST_H

#include "eptest.h"
#include "guest_memory.h"
#include "image_check.h"
#include "vm.h"
#include "vm_console.h"

struct eptest {
    struct vm vm;
    struct guest_memory mem;
    struct vm_console console;
    uint64_t seed;
    unsigned mode;
    bool high_ram;
    uint64_t *canary, *status;           /* hypervisor pages: a target, the status page */
    uint8_t regs[64];                    /* the device's registers */
    struct mmio_access log[24];          /* the device's accesses, in order */
    unsigned nlog;
    uint64_t status_writes;
    uint8_t timer_vector;
    struct gmem_violation at_stack, at_pt, at_status;   /* noted violations */
    uint64_t canary_sum, code_sum;
    uint32_t lapic_lvt;
    struct eptest_counters {             /* at the previous report */
        uint64_t violations, emulated, unassigned_reads, unassigned_writes, lazy_faults;
        uint64_t device_exits, status_exits;
    } prev;
    unsigned reports;
};

uint64_t run_seed(void);
void eptest_log_mmio(struct eptest *t, const struct mmio_access *a);
enum vcpu_action eptest_violation(struct vm *vm);  /* notes some violations, then gmem's handler */
void eptest_before(struct eptest *t);             /* checksums of what the guest must not change */
void eptest_report(struct eptest *t, int test, const uint64_t *v, unsigned n);
bool eptest_finish(struct eptest *t, enum vm_stop_kind stop);

#endif
