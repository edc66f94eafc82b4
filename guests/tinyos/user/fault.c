/* fault.c: recurses until the stack runs into the unmapped guard page below it; the
 * kernel must kill this program (exit code -1) and carry on. */
#include "ulib.h"

static int recurse(int depth)
{
    volatile char frame[256];
    frame[0] = (char)depth;
    if (depth > 1000000)         /* never reached: 16 KiB of stack hold about 60 frames */
        return 0;
    return recurse(depth + 1) + frame[0];
}

int main(void)
{
    printf("fault: recursing until the stack overflows into the guard page\n");
    recurse(0);
    printf("fault: still alive, the guard page did not work\n");
    return 0;
}
