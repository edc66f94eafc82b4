/* hello.c: the smallest user program: one line printed through the write system
 * call, with the process id the kernel gave it. */
#include "ulib.h"

int main(void)
{
    printf("Hello world from user mode program! (pid %ld)\n", getpid());
    return 0;
}
