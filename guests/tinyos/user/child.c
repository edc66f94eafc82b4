/* child.c: stress's helper: keeps the CPU busy with system calls for 60 ms, so the
 * children stress starts at once must share it through the 10 ms tick. Exits with
 * pid % 100 if it saw itself preempted (over 5 ms between two clock reads), else 100 + that. */
#include "ulib.h"

int main(void)
{
    long pid = getpid();
    unsigned long now = time_us(), end = now + 60000, longest = 0;
    while (now < end) {
        if (getpid() != pid)
            return 255;
        unsigned long next = time_us();
        if (next - now > longest)
            longest = next - now;
        now = next;
    }
    return (int)(pid % 100) + (longest > 5000 ? 0 : 100);
}
