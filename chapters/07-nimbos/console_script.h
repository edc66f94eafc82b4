/* console_script.h: scripted typing for the guest's console, run by the hypervisor itself: wait
 * until the guest printed a text, then type another, as a person at the serial line would. */
#ifndef CH07_CONSOLE_SCRIPT_H
#define CH07_CONSOLE_SCRIPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The script is a text file (a boot module named "input"), one step per line:
 *
 *     # a comment
 *     wait ">> "                  until the guest's output contains this text
 *     type "usertests\r"          then type this (\r is the Enter key)
 *     stop                        end the run here (the hypervisor reports and powers off)
 *
 * Strings take the escapes \r \n \t \\ \" and \xHH. Steps run in order; a wait only
 * looks at output printed after the step before it finished.
 */
#define SCRIPT_STEPS   16
#define SCRIPT_TEXT    64

enum script_kind { SCRIPT_WAIT, SCRIPT_TYPE, SCRIPT_STOP };

struct script_step {
    enum script_kind kind;
    uint8_t len;
    char text[SCRIPT_TEXT];
};

struct console_script {
    struct script_step step[SCRIPT_STEPS];
    unsigned nsteps, current;
    unsigned typed;              /* bytes of the current "type" step already given */
    char recent[SCRIPT_TEXT];    /* the last output bytes, oldest first */
    unsigned nrecent;
    uint64_t waits_matched, bytes_typed;
};

/* Parse len bytes of script text. Returns 0, or -1 with a sentence naming the line. */
int script_parse(struct console_script *s, const char *text, size_t len, char *why, size_t why_size);

/* The guest printed byte c. */
void script_output(struct console_script *s, uint8_t c);
/* The next byte to type, or -1 (waiting for output, or the script is done). */
int script_next_byte(struct console_script *s);
bool script_done(const struct console_script *s);
/* The script has reached a "stop" step. */
bool script_stopped(const struct console_script *s);

#endif
