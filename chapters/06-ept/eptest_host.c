/* eptest_host.c: checkpoints from the eptest guest's reports and from the EPT itself: backing of
 * guest-physical 0, page sizes, MMIO emulation, allocation on first touch, isolation, A/D flags. */
#include "eptest_host.h"

#include "ept_vmx.h"
#include "exit_qual.h"
#include "host_timer.h"
#include "kernel.h"
#include "mm.h"
#include "vmx_controls.h"
#include "vmx_exit.h"
#include "vmxtrace.h"

extern char kernel_start[];

uint64_t run_seed(void)
{
    uint64_t seed = 0;
    for (const char *p = run_nonce(); *p; p++) {
        int d = *p >= '0' && *p <= '9' ? *p - '0' : *p >= 'a' && *p <= 'f' ? *p - 'a' + 10 : -1;
        if (d < 0)
            break;
        seed = seed << 4 | (uint64_t)d;
    }
    return seed;
}

void eptest_log_mmio(struct eptest *t, const struct mmio_access *a)
{
    if (t->nlog < ARRAY_SIZE(t->log))
        t->log[t->nlog++] = *a;
}

enum vcpu_action eptest_violation(struct vm *vm)
{
    struct eptest *t = vm->user;
    enum vcpu_action a = gmem_handle_violation(vm);
    uint64_t page = t->mem.last.gpa & ~0xfffull;
    if (page == LAZY_STACK)
        t->at_stack = t->mem.last;
    else if (page == LAZY_PT)
        t->at_pt = t->mem.last;
    else if (page == STATUS_GPA)
        t->at_status = t->mem.last;
    return a;
}

static uint64_t checksum(const void *p, size_t n)
{
    const uint64_t *q = p;
    uint64_t sum = 0;
    for (size_t i = 0; i < n / 8; i++)
        sum = (sum << 7 | sum >> 57) ^ q[i];
    return sum;
}

#define LAPIC_LVT_TIMER 0x320

static uint32_t host_lvt_timer(void)
{
    const struct host_timer_info *h = host_timer();
    return h->running ? *(volatile uint32_t *)phys_to_virt(h->lapic_base + LAPIC_LVT_TIMER) : 0;
}

void eptest_before(struct eptest *t)
{
    t->canary_sum = checksum(t->canary, PAGE_SIZE);
    t->code_sum = checksum(kernel_start, 64 * 1024);
    t->lapic_lvt = host_lvt_timer();
    if (t->mode == MODE_MISCONFIG)      /* for tools/vmx_trace.py: Bochs' complaint is on purpose */
        vmx_trace("EXPECT failure an EPT entry with write but not read permission (exit 49)");
}

static const struct gmem_region *region(const struct eptest *t, uint64_t gpa)
{
    return gmem_region_of(&t->mem, gpa);
}

static void snapshot(struct eptest *t)
{
    const struct guest_memory *m = &t->mem;
    t->prev = (struct eptest_counters){m->violations, m->emulated, m->unassigned_reads,
                                       m->unassigned_writes, m->lazy_faults,
                                       region(t, DEVICE_GPA)->exits, region(t, STATUS_GPA)->exits};
}

/* Guest-physical 0 and the high RAM: where the guest's pattern landed in host memory. */
static void report_pattern(struct eptest *t, const uint64_t *v)
{
    struct ept_lookup l;
    bool found = ept_lookup(&t->mem.ept, 0, &l), ok = found;
    for (uint64_t i = 0; found && i < 512; i++)
        ok &= ((const uint64_t *)phys_to_virt(l.hpa))[i] == t->seed * (i + 1);
    checkpoint("ram-backing", "words=%lu gpa0_hpa=0x%lx ram_hpa=0x%lx host_ok=%d pool_start=0x%lx",
               v[0], found ? l.hpa : 0, region(t, 0)->hpa, ok, boot_info.free_start);
    ok = found = t->high_ram && ept_lookup(&t->mem.ept, HIGH_PROBE, &l);
    for (uint64_t i = 0; found && i < 8; i++)
        ok &= ((const uint64_t *)phys_to_virt(l.hpa))[i] == ~t->seed + i;
    checkpoint("ept-1g", "high=%lu guest_ok=%lu host_ok=%d hpa=0x%lx page_size=0x%lx", v[1], v[2],
               ok, found ? l.hpa : 0, found ? l.page_size : 0);
}

static void report_mmio(struct eptest *t, const uint64_t *v)
{
    char st[96], ld[96];
    size_t a = 0, b = 0;
    for (unsigned i = 0; i < t->nlog; i++) {
        const struct mmio_access *m = &t->log[i];
        if (m->write && a + 8 < sizeof(st))
            a += (size_t)ksnprintf(st + a, sizeof(st) - a, "%s%u@%lx", a ? "," : "", m->size, m->offset);
        else if (!m->write && b + 8 < sizeof(ld))
            b += (size_t)ksnprintf(ld + b, sizeof(ld) - b, "%s%u@%lx", b ? "," : "", m->size, m->offset);
    }
    st[a] = ld[b] = '\0';
    uint64_t s[10] = {0};
    for (unsigned i = 0, k = 0; i < t->nlog && k < 10; i++)
        if (t->log[i].write)
            s[k++] = t->log[i].value;
    checkpoint("mmio-stores", "pattern=%s s0=0x%lx s1=0x%lx s2=0x%lx s3=0x%lx s4=0x%lx s5=0x%lx "
               "s6=0x%lx s7=0x%lx s8=0x%lx s9=0x%lx", st, s[0], s[1], s[2], s[3], s[4], s[5], s[6],
               s[7], s[8], s[9]);
    checkpoint("mmio-loads", "pattern=%s l0=0x%lx l1=0x%lx l2=0x%lx l3=0x%lx l4=0x%lx l5=0x%lx "
               "l6=0x%lx l7=0x%lx l8=0x%lx l9=0x%lx exits=%lu emulated=%lu", ld, v[0], v[1], v[2],
               v[3], v[4], v[5], v[6], v[7], v[8], v[9],
               region(t, DEVICE_GPA)->exits - t->prev.device_exits, t->mem.emulated - t->prev.emulated);
}

static void report_status(struct eptest *t, const uint64_t *v)
{
    struct ept_lookup st, ram;
    ept_lookup(&t->mem.ept, STATUS_GPA, &st);
    ept_lookup(&t->mem.ept, 0, &ram);
    checkpoint("mmio-readonly", "read0=0x%lx read1=0x%lx exits=%lu writes=%lu status_perms=%lu "
               "status_memtype=%lu ram_perms=%lu ram_memtype=%lu", v[0], v[1],
               region(t, STATUS_GPA)->exits - t->prev.status_exits, t->status_writes, st.perms,
               (*st.entry >> EPT_MT_SHIFT) & 7, ram.perms, (*ram.entry >> EPT_MT_SHIFT) & 7);
    struct ept_violation_qual q = ept_violation_qual_decode(t->at_status.qualification);
    checkpoint("ept-violation-write", "read=%d write=%d fetch=%d readable=%d writable=%d "
               "executable=%d gla_valid=%d gla_translation=%d gpa=0x%lx gla=0x%lx", q.read, q.write,
               q.fetch, q.readable, q.writable, q.executable, q.gla_valid, q.gla_translation,
               t->at_status.gpa, t->at_status.gla);
}

static void report_lazy(struct eptest *t, int test, const uint64_t *v)
{
    struct ept_lookup l;
    const struct gmem_region *r = region(t, LAZY_BASE);
    if (test == T_LAZY) {
        bool backed = ept_lookup(&t->mem.ept, LAZY_PATTERN, &l), ok = backed;
        for (uint64_t i = 0; backed && i < 8; i++)
            ok &= ((const uint64_t *)phys_to_virt(l.hpa))[i] == (t->seed ^ (i << 56));
        checkpoint("lazy-alloc", "read=0x%lx pattern_ok=%lu twice=0x%lx pages=%u faults=%lu "
                   "backing_ok=%d untouched_mapped=%d", v[0], v[1], v[2], r->lazy_pages,
                   t->mem.lazy_faults - t->prev.lazy_faults, ok,
                   ept_lookup(&t->mem.ept, LAZY_UNTOUCHED, &l));
    } else {
        checkpoint("lazy-idt-vectoring", "vector=%lu count=%lu on_ist=%lu vectoring=0x%x gpa=0x%lx",
                   v[0], v[1], v[2], t->at_stack.idt_vectoring, t->at_stack.gpa);
    }
}

static void report_pt_violation(struct eptest *t, const uint64_t *v)
{
    struct ept_violation_qual q = ept_violation_qual_decode(t->at_pt.qualification);
    checkpoint("ept-violation", "read=%d write=%d fetch=%d readable=%d writable=%d executable=%d "
               "gla_valid=%d gla_translation=%d gpa=0x%lx gla=0x%lx guest_fault=%lu "
               "guest_address_ok=%lu", q.read, q.write, q.fetch, q.readable, q.writable,
               q.executable, q.gla_valid, q.gla_translation, t->at_pt.gpa, t->at_pt.gla, v[0], v[1]);
}

static void report_isolation(struct eptest *t, const uint64_t *v)
{
    checkpoint("isolation", "probes=%lu in_ram=%lu outside=%lu as_expected=%lu unassigned_reads=%lu "
               "unassigned_writes=%lu canary_same=%d code_same=%d lapic_same=%d canary=0x%lx",
               v[0], v[1], v[2], v[3],
               t->mem.unassigned_reads - t->prev.unassigned_reads,
               t->mem.unassigned_writes - t->prev.unassigned_writes,
               checksum(t->canary, PAGE_SIZE) == t->canary_sum,
               checksum(kernel_start, 64 * 1024) == t->code_sum, host_lvt_timer() == t->lapic_lvt,
               virt_to_phys(t->canary));
}

void eptest_report(struct eptest *t, int test, const uint64_t *v, unsigned n)
{
    static const unsigned want[T_COUNT] = {
        [T_PATTERN] = 3, [T_MMIO] = 10, [T_STATUS] = 2, [T_LAZY] = 3, [T_LAZY_IDTV] = 3,
        [T_PT_VIOLATION] = 3, [T_ISOLATION] = 4,
    };
    if (test <= 0 || test >= T_COUNT || n != want[test]) {
        kprintf("eptest: a report with test id %d and %u values: not in the protocol\n", test, n);
        return;
    }
    t->reports++;
    switch (test) {
    case T_PATTERN: report_pattern(t, v); break;
    case T_MMIO: report_mmio(t, v); break;
    case T_STATUS: report_status(t, v); break;
    case T_LAZY: case T_LAZY_IDTV: report_lazy(t, test, v); break;
    case T_PT_VIOLATION: report_pt_violation(t, v); break;
    default: report_isolation(t, v); break;
    }
    snapshot(t);
}

/* INVEPT and INVVPID of every type the CPU allows, and one it never allows (type 0 of INVEPT). */
static void report_invalidation(struct eptest *t)
{
    const struct ept_caps *c = &t->mem.ept.caps;
    uint64_t eptp = ept_pointer(&t->mem.ept), la = vm_guest_rip_linear(&t->vm);
    int e1 = c->invept_single ? (int)invept(VMX_EPT_EXTENT_CONTEXT, eptp) : -1;
    int e2 = c->invept_all ? (int)invept(VMX_EPT_EXTENT_GLOBAL, 0) : -1;
    vmx_trace("EXPECT failure INVEPT type 0, which no CPU supports");
    int e0 = (int)invept(0, eptp);
    vmx_trace("EXPECT end");
    uint32_t e0_error = e0 == VMX_FAIL_VALID ? vmx_instruction_error() : 0;
    int v[4] = {-1, -1, -1, -1};
    bool ok[4] = {c->invvpid_address, c->invvpid_single, c->invvpid_all, c->invvpid_single_globals};
    for (int type = 0; type < 4; type++)
        if (c->invvpid && t->mem.vpid && ok[type])
            v[type] = (int)invvpid((uint64_t)type, t->mem.vpid, la);
    checkpoint("invalidate", "vpid=%u invept1=%d invept2=%d invept0=%d invept0_error=%u invvpid0=%d "
               "invvpid1=%d invvpid2=%d invvpid3=%d", t->mem.vpid, e1, e2, e0, e0_error, v[0], v[1],
               v[2], v[3]);
}

/* With A/D flags on, the CPU marks what the guest touched (28.2.4): a written page is dirty,
 * a page it only read is accessed but clean. */
static void report_setup(struct eptest *t)
{
    const struct ept *e = &t->mem.ept;
    struct ept_lookup ram, ro;
    ept_lookup(e, 0, &ram);
    ept_lookup(e, LAZY_READ, &ro);
    checkpoint("ept-setup", "eptp_flags=0x%lx ad=%d leaves_4k=%lu leaves_2m=%lu leaves_1g=%lu "
               "tables=%lu high=%d", ept_pointer(e) & 0xfff, e->ad, e->leaves[0], e->leaves[1],
               e->leaves[2], e->tables, t->high_ram);
    checkpoint("ept-ad", "ad=%d pml4e_accessed=%d ram_accessed=%d ram_dirty=%d read_accessed=%d "
               "read_dirty=%d", e->ad, (e->pml4[0] & EPT_ACCESSED) != 0,
               (*ram.entry & EPT_ACCESSED) != 0, (*ram.entry & EPT_DIRTY) != 0,
               ro.present && (*ro.entry & EPT_ACCESSED), ro.present && (*ro.entry & EPT_DIRTY));
}

static void report_stop(struct eptest *t, const char *id, enum vm_stop_kind stop)
{
    uint8_t bytes[4] = {0};
    struct guest_walk w;
    vm_access_guest(&t->vm, vm_guest_rip_linear(&t->vm), bytes, sizeof(bytes), PFERR_FETCH, &w);
    struct ept_lookup l;
    ept_lookup(&t->mem.ept, t->mem.last.gpa, &l);
    checkpoint(id, "reason=%u stop=%d gpa=0x%lx bytes=0x%02x%02x%02x%02x entry_perms=%lu level=%d "
               "misconfigs=%lu", t->vm.vcpu.exit.basic, stop, t->mem.last.gpa, bytes[0], bytes[1],
               bytes[2], bytes[3], l.entry ? (uint64_t)(*l.entry & EPT_RWX) : 0, l.level, t->mem.misconfigs);
}

bool eptest_finish(struct eptest *t, enum vm_stop_kind stop)
{
    switch (t->mode) {
    case MODE_TESTS:
        report_setup(t);
        report_invalidation(t);
        checkpoint("guest-done", "stop=%d status=%lu reports=%u", stop, t->vm.stop_status, t->reports);
        return stop == VM_STOP_GUEST && t->vm.stop_status == 0 && t->reports == 7;
    case MODE_MISCONFIG:
        report_stop(t, "ept-misconfig", stop);
        return stop == VM_STOP_REFUSED && t->vm.vcpu.exit.basic == 49;
    default:
        report_stop(t, "mmio-refused", stop);
        return stop == VM_STOP_REFUSED && t->vm.vcpu.exit.basic == 48;
    }
}
