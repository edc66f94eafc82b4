/* usertests.c: runs every test program one after the other and reports each exit
 * code in NimbOS's words, then `usertests passed!` if each ended as expected. */
#include "ulib.h"

static const struct {
    const char *name;
    int expected_code;
} tests[] = {
    { "hello", 0 },
    { "compute", 0 },
    { "sleep", 0 },
    { "fault", -1 },             /* killed by the kernel on purpose */
    { "stress", 0 },
};

int main(void)
{
    int failed = 0, n = sizeof(tests) / sizeof(tests[0]);
    for (int i = 0; i < n; i++) {
        printf("Usertests: Running %s:\n", tests[i].name);
        int code = -9999;
        long pid = spawn(tests[i].name);
        if (pid < 0 || wait(pid, &code) != pid) {
            printf("Usertests: cannot run '%s'\n", tests[i].name);
            failed++;
            continue;
        }
        printf("Usertests: Test '%s' in Process %ld exited with code %d.\n", tests[i].name, pid,
               code);
        failed += code != tests[i].expected_code;
    }
    if (failed) {
        printf("usertests failed: %d of %d tests\n", failed, n);
        return 1;
    }
    printf("usertests passed!\n");
    return 0;
}
