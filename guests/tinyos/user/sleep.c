/* sleep.c: sleep precision: 200 sleeps of 1 ms, each measured with the TSC; prints
 * the worst and average lateness in microseconds on one machine-readable line. */
#include "ulib.h"

#define SLEEPS 200
#define PERIOD_US 1000

int main(void)
{
    struct tinyos_stats s;
    stats(&s);
    unsigned long khz = s.tsc_khz, period = PERIOD_US * khz / 1000;
    unsigned long worst = 0, total = 0;
    int early = 0;
    for (int i = 0; i < SLEEPS; i++) {
        unsigned long t0 = rdtsc();
        sleep_us(PERIOD_US);
        unsigned long took = rdtsc() - t0;
        if (took < period) {
            early++;             /* woken before its time: a scheduler bug */
            continue;
        }
        unsigned long late = took - period;
        total += late;
        if (late > worst)
            worst = late;
    }
    printf("sleep-precision: sleeps=%d period_us=%d worst_late_us=%lu avg_late_us=%lu early=%d\n",
           SLEEPS, PERIOD_US, worst * 1000 / khz, total * 1000 / khz / SLEEPS, early);
    return early ? 1 : 0;
}
