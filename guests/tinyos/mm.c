/* mm.c: physical frames and address spaces: a free list of 4 KiB frames, one page
 * table per process sharing the kernel's half, user-pointer checks and the ELF loader. */
#include "kernel.h"

/*
 * Physical memory: the image from 0x200000, its .bss, then free frames up to
 * RAM_END (16 MiB, the hypervisor's default guest RAM). A free frame holds the
 * address of the next free frame: the list costs no memory of its own.
 *
 * A process's PML4: entry 511 is the kernel's (the same PDPT in every address
 * space, so kernel addresses work whatever CR3 holds); entries 0..255 are the
 * process's own, built from 4 KiB pages: its program at 0x400000 and its stack
 * below 0x800000. Entries 256..510 stay empty.
 */
extern char kernel_end[];
static u64 free_list, free_count;

void frame_free(u64 pa)
{
    *(u64 *)P2V(pa) = free_list;
    free_list = pa;
    free_count++;
}

u64 frame_alloc(void)
{
    u64 pa = free_list;
    if (!pa)
        return 0;
    free_list = *(u64 *)P2V(pa);
    free_count--;
    memset(P2V(pa), 0, PAGE_SIZE);
    return pa;
}

u64 frames_free(void)
{
    return free_count;
}

void mm_init(void)
{
    u64 start = V2P(kernel_end);
    for (u64 pa = RAM_END - PAGE_SIZE; pa >= start; pa -= PAGE_SIZE)
        frame_free(pa);                  /* lowest address at the head of the list */
    kprintf("Free memory: 0x%lx - 0x%lx (%lu frames of 4 KiB)\n", start, RAM_END, free_count);
    /* The identity map was only needed to switch to the high half: a stray physical
     * pointer now faults instead of silently working. */
    boot_pml4[0] = 0;
    write_cr3(read_cr3());
}

u64 *vm_create(void)
{
    u64 pa = frame_alloc();
    if (!pa)
        return NULL;
    u64 *pml4 = P2V(pa);
    pml4[511] = boot_pml4[511];
    return pml4;
}

/* The page-table entry for a user address, creating the tables on the way if asked. */
static u64 *walk(u64 *pml4, u64 va, int create)
{
    if (va >= (1ul << 39))               /* user space is PML4 entry 0 only */
        return NULL;
    u64 *table = pml4;
    for (int shift = 39; shift > 12; shift -= 9) {
        u64 *e = &table[(va >> shift) & 511];
        if (!(*e & PTE_P)) {
            u64 pa = create ? frame_alloc() : 0;
            if (!pa)
                return NULL;
            *e = pa | PTE_P | PTE_W | PTE_U;
        }
        table = P2V(*e & PTE_ADDR);
    }
    return &table[(va >> 12) & 511];
}

int vm_map(u64 *pml4, u64 va, u64 pa, u64 flags)
{
    u64 *pte = walk(pml4, va, 1);
    if (!pte || (*pte & PTE_P))
        return -1;
    *pte = pa | flags | PTE_P;
    return 0;
}

static void free_table(u64 *table, int level)
{
    for (int i = 0; i < (level == 4 ? 256 : 512); i++) {
        if (!(table[i] & PTE_P))
            continue;
        if (level > 1)
            free_table(P2V(table[i] & PTE_ADDR), level - 1);
        else
            frame_free(table[i] & PTE_ADDR);
    }
    frame_free(V2P(table));
}

/* Frees every user page and table; the caller has moved CR3 elsewhere. */
void vm_destroy(u64 *pml4)
{
    free_table(pml4, 4);
}

/* Is [va, va+len) mapped for user mode (and writable, if asked)? System calls check
 * every pointer a program passes, so a bad one fails the call instead of the kernel. */
int vm_user_ok(u64 *pml4, u64 va, u64 len, int write)
{
    if (va + len < va || va + len > USER_STACK_TOP)
        return 0;
    for (u64 page = va & ~(PAGE_SIZE - 1); page < va + len; page += PAGE_SIZE) {
        u64 *pte = walk(pml4, page, 0);
        u64 need = PTE_P | PTE_U | (write ? PTE_W : 0);
        if (!pte || (*pte & need) != need)
            return 0;
    }
    return 1;
}

/* ---- ELF64 executables (System V ABI, x86-64 supplement) ---- */
struct elf64_ehdr {
    u8 ident[16];
    u16 type, machine;
    u32 version;
    u64 entry, phoff, shoff;
    u32 flags;
    u16 ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct elf64_phdr {
    u32 type, flags;
    u64 offset, vaddr, paddr, filesz, memsz, align;
};

#define PT_LOAD 1
#define PF_X 1
#define PF_W 2

static int load_segment(u64 *pml4, const struct elf64_phdr *ph, const u8 *data)
{
    u64 flags = PTE_U | (ph->flags & PF_W ? PTE_W : 0) | (ph->flags & PF_X ? 0 : PTE_NX);
    for (u64 page = ph->vaddr & ~(PAGE_SIZE - 1); page < ph->vaddr + ph->memsz; page += PAGE_SIZE) {
        u64 pa = frame_alloc();
        if (!pa || vm_map(pml4, page, pa, flags) < 0) {
            if (pa)
                frame_free(pa);
            return -1;                   /* out of memory, or two segments share a page */
        }
        /* Copy the part of the file that falls into this page; the rest stays zero. */
        u64 lo = page > ph->vaddr ? page : ph->vaddr;
        u64 hi = page + PAGE_SIZE < ph->vaddr + ph->filesz ? page + PAGE_SIZE : ph->vaddr + ph->filesz;
        if (lo < hi)
            memcpy((u8 *)P2V(pa) + (lo - page), data + (lo - ph->vaddr), hi - lo);
    }
    return 0;
}

int elf_load(u64 *pml4, const u8 *image, size_t size, u64 *entry)
{
    const struct elf64_ehdr *eh = (const void *)image;
    if (size < sizeof(*eh) || *(const u32 *)eh->ident != 0x464C457F /* "\177ELF" */ || eh->ident[4] != 2 ||
        eh->machine != 62 || eh->type != 2 || eh->phentsize != sizeof(struct elf64_phdr) ||
        eh->phoff > size || (u64)eh->phnum * sizeof(struct elf64_phdr) > size - eh->phoff)
        return -1;
    const struct elf64_phdr *ph = (const void *)(image + eh->phoff);
    for (int i = 0; i < eh->phnum; i++, ph++) {
        if (ph->type != PT_LOAD || ph->memsz == 0)
            continue;
        u64 limit = USER_STACK_TOP - (USER_STACK_PAGES + 1) * PAGE_SIZE;   /* below the guard page */
        if (ph->offset > size || ph->filesz > size - ph->offset || ph->filesz > ph->memsz ||
            ph->vaddr < USER_BASE || ph->vaddr > limit || ph->memsz > limit - ph->vaddr)
            return -1;
        if (load_segment(pml4, ph, image + ph->offset) < 0)
            return -1;
    }
    *entry = eh->entry;
    return 0;
}
