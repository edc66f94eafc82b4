/* hello.c: the smallest user program: one line through the write system call. */
#include "ulib.h"

int main(void)
{
    printf("Hello world from user mode program! (pid %ld)\n", getpid());
    return 0;
}
