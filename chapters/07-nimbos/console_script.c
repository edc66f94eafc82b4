/* console_script.c: the "wait"/"type" console script: parsing with escapes, matching the guest's
 * output as it streams past (no buffering of whole lines), handing out the bytes to type. */
#include "console_script.h"

#include <stdarg.h>

#include "lib.h"
#include "printf.h"

static int __attribute__((format(printf, 3, 4))) fail(char *why, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (why && n)
        kvsnprintf(why, n, fmt, ap);
    va_end(ap);
    return -1;
}

static int hex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)(c | 0x20);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* A quoted string from p (at the opening quote) to end; returns the length or -1. */
static int parse_string(const char *p, const char *end, char *out)
{
    int len = 0;
    if (p >= end || *p++ != '"')
        return -1;
    while (p < end && *p != '"') {
        char c = *p++;
        if (c == '\\') {
            if (p >= end)
                return -1;
            c = *p++;
            switch (c) {
            case 'r':  c = '\r'; break;
            case 'n':  c = '\n'; break;
            case 't':  c = '\t'; break;
            case '\\': case '"': break;
            case 'x':
                if (end - p < 2 || hex(p[0]) < 0 || hex(p[1]) < 0)
                    return -1;
                c = (char)(hex(p[0]) << 4 | hex(p[1]));
                p += 2;
                break;
            default:
                return -1;
            }
        }
        if (len == SCRIPT_TEXT)
            return -1;
        out[len++] = c;
    }
    if (p >= end)
        return -1;                       /* no closing quote */
    p++;
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
        p++;
    return p == end && len > 0 ? len : -1;
}

static bool starts(const char *p, const char *end, const char *word)
{
    size_t n = strlen(word);
    return (size_t)(end - p) > n && !memcmp(p, word, n) && (p[n] == ' ' || p[n] == '\t');
}

/* "stop", alone on its line but for blanks. */
static bool is_stop(const char *p, const char *end)
{
    if (end - p < 4 || memcmp(p, "stop", 4))
        return false;
    for (p += 4; p < end; p++)
        if (*p != ' ' && *p != '\t' && *p != '\r')
            return false;
    return true;
}

int script_parse(struct console_script *s, const char *text, size_t len, char *why, size_t n)
{
    const char *p = text, *end = text + len;
    *s = (struct console_script){0};
    for (unsigned line = 1; p < end; line++) {
        const char *eol = p;
        while (eol < end && *eol != '\n')
            eol++;
        while (p < eol && (*p == ' ' || *p == '\t'))
            p++;
        if (p < eol && *p != '#' && *p != '\r') {
            if (s->nsteps == SCRIPT_STEPS)
                return fail(why, n, "input script line %u: more than %d steps", line, SCRIPT_STEPS);
            struct script_step *st = &s->step[s->nsteps];
            if (is_stop(p, eol)) {
                st->kind = SCRIPT_STOP;
                s->nsteps++;
                p = eol + 1;
                continue;
            }
            bool wait = starts(p, eol, "wait");
            if (!wait && !starts(p, eol, "type"))
                return fail(why, n, "input script line %u: expected wait \"...\", type \"...\" "
                            "or stop", line);
            p += 4;
            while (p < eol && (*p == ' ' || *p == '\t'))
                p++;
            int l = parse_string(p, eol, st->text);
            if (l < 0)
                return fail(why, n, "input script line %u: a non-empty quoted string of at most "
                            "%d bytes, escapes \\r \\n \\t \\\\ \\\" \\xHH", line, SCRIPT_TEXT);
            st->kind = wait ? SCRIPT_WAIT : SCRIPT_TYPE;
            st->len = (uint8_t)l;
            s->nsteps++;
        }
        p = eol + 1;
    }
    return 0;
}

bool script_done(const struct console_script *s)
{
    return s->current >= s->nsteps;
}

bool script_stopped(const struct console_script *s)
{
    return !script_done(s) && s->step[s->current].kind == SCRIPT_STOP;
}

/* After each byte: does the output seen so far end with the awaited text? */
void script_output(struct console_script *s, uint8_t c)
{
    if (script_done(s) || s->step[s->current].kind != SCRIPT_WAIT)
        return;
    if (s->nrecent == SCRIPT_TEXT) {
        memmove(s->recent, s->recent + 1, SCRIPT_TEXT - 1);
        s->nrecent--;
    }
    s->recent[s->nrecent++] = (char)c;
    const struct script_step *st = &s->step[s->current];
    if (s->nrecent >= st->len && !memcmp(s->recent + s->nrecent - st->len, st->text, st->len)) {
        s->current++;
        s->nrecent = 0;                  /* the next wait starts after this match */
        s->waits_matched++;
    }
}

int script_next_byte(struct console_script *s)
{
    if (script_done(s) || s->step[s->current].kind != SCRIPT_TYPE)
        return -1;
    const struct script_step *st = &s->step[s->current];
    uint8_t b = (uint8_t)st->text[s->typed++];
    if (s->typed == st->len) {
        s->typed = 0;
        s->current++;
    }
    s->bytes_typed++;
    return b;
}
