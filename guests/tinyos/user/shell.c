/* shell.c: the tinyos shell: a `>> ` prompt on the polled console; a line names a
 * program to run (`help` lists them), `stats` shows kernel counters, `exit` leaves. */
#include "ulib.h"

#define LINE_MAX 64

/* Reads a line with echo; Enter is CR (a terminal) or LF, backspace erases. */
static void read_line(char *line)
{
    int n = 0;
    for (;;) {
        char c;
        if (read(&c, 1) != 1)
            continue;
        if (c == '\r' || c == '\n') {
            printf("\n");
            line[n] = '\0';
            return;
        }
        if ((c == '\b' || c == 0x7F) && n > 0) {
            n--;
            printf("\b \b");
        } else if (c >= ' ' && c < 0x7F && n < LINE_MAX - 1) {
            line[n++] = c;
            write(&c, 1);
        }
    }
}

static void help(void)
{
    char name[32];
    printf("programs:");
    for (unsigned long i = 0; program(i, name, sizeof(name)) == 0; i++)
        printf(" %s", name);
    printf("\nbuilt in: help stats exit\n");
}

static void show_stats(void)
{
    struct tinyos_stats s;
    stats(&s);
    printf("stats: boot_to_prompt_tsc=%lu boot_to_prompt_us=%lu tsc_khz=%lu ticks=%lu "
           "switches=%lu preemptions=%lu free_frames=%lu\n",
           s.boot_tsc, s.boot_tsc / s.tsc_khz * 1000 + s.boot_tsc % s.tsc_khz * 1000 / s.tsc_khz,
           s.tsc_khz, s.ticks, s.switches, s.preemptions, s.free_frames);
}

int main(void)
{
    char line[LINE_MAX];
    printf("tinyos user shell\n");
    for (;;) {
        printf(">> ");
        read_line(line);
        if (!line[0])
            continue;
        if (strcmp(line, "exit") == 0)
            return 0;
        if (strcmp(line, "help") == 0) {
            help();
            continue;
        }
        if (strcmp(line, "stats") == 0) {
            show_stats();
            continue;
        }
        long pid = spawn(line);
        if (pid < 0) {
            printf("Shell: no program named '%s' (try help)\n", line);
            continue;
        }
        int code;
        wait(pid, &code);
        printf("Shell: Process %ld exited with code %d\n", pid, code);
    }
}
