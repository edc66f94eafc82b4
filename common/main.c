/* main.c: kmain(), the first C code: bring up the console, descriptors, boot
 * information and memory, then run the chapter and power off with its status. */
#include "desc.h"
#include "gdbstub.h"
#include "kernel.h"
#include "mm.h"
#include "serial.h"

void kmain(uint32_t magic, uint32_t info_addr)
{
    serial_init(COM1_PORT);
    desc_init();
    boot_info_init(magic, info_addr);
    mm_init();
    kprintf("\n== %s ==\n", chapter_title);
    kprintf("boot: command line \"%s\", RAM to 0x%lx, %zu free pages\n",
            boot_info.cmdline, boot_info.ram_end, mm_free_pages());
    gdbstub_init();                     /* gdb=1 on the command line: wait for gdb */
    poweroff(chapter_main());
}
