/* child.c: stress's helper: keeps the CPU busy with system calls for 30 ms, so
 * several of them must share it through the tick, then exits with pid % 100. */
#include "ulib.h"

int main(void)
{
    long pid = getpid();
    unsigned long end = time_us() + 30000;
    while (time_us() < end)
        if (getpid() != pid)
            return 255;
    return (int)(pid % 100);
}
