/* checkpoint.h: how a chapter reports what it observed, for meson test and the grader.
 * Line format and rules: docs/checkpoints.md. */
#ifndef CHECKPOINT_H
#define CHECKPOINT_H

/* Exit statuses of a chapter kernel, reported in the "@end" line. */
enum {
    STATUS_OK = 0,      /* the chapter ran to its end */
    STATUS_FAIL = 1,    /* the chapter found something wrong and said what */
    STATUS_PANIC = 2,   /* panic() or a fatal exception */
    STATUS_SKIP = 3,    /* this CPU cannot run the chapter (e.g. no VMX) */
};

/* "@ckpt <id> nonce=<nonce> <fields>": fields are "key=value" pairs the test compares. */
void checkpoint(const char *id, const char *fields_fmt, ...) __attribute__((format(printf, 2, 3)));
/* "@skip nonce=<nonce> <reason>", then power off with STATUS_SKIP. */
_Noreturn void skip_chapter(const char *reason_fmt, ...) __attribute__((format(printf, 1, 2)));
/* "@end nonce=<nonce> status=<n>", then power off (QEMU isa-debug-exit, Bochs port 0x8900). */
_Noreturn void poweroff(int status);
const char *run_nonce(void);

#endif
