/* kernel.h: the contract between common/ and a chapter: common/ boots the CPU
 * and then calls chapter_main(); its return value becomes the exit status. */
#ifndef KERNEL_H
#define KERNEL_H

#include "boot.h"
#include "checkpoint.h"
#include "lib.h"
#include "panic.h"
#include "printf.h"
#include "x86.h"

extern const char chapter_title[];   /* each chapter defines its title */
int chapter_main(void);

#endif
