/* lib.c: memory, string and formatting functions, compiled twice: into the kernel
 * and into every user program (see meson.build), so both print the same way. */
#include "tinylib.h"

/* rep stosb / rep movsb: plain loops here could be turned back into calls to
 * memset/memcpy by the compiler, which would call themselves forever. */
void *memset(void *dst, int c, size_t n)
{
    void *d = dst;
    __asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
    return dst;
}

void *memcpy(void *dst, const void *src, size_t n)
{
    void *d = dst;
    __asm__ volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(n) : : "memory");
    return dst;
}

int strcmp(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return (unsigned char)*a - (unsigned char)*b;
}

size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

static void put_number(fmt_out out, void *ctx, unsigned long long v, int base, int negative,
                       int width, char pad, int left)
{
    char digits[24];
    int n = 0;
    do {
        digits[n++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v);
    int len = n + negative;
    if (negative && pad == '0')              /* "-0012": the sign goes before the zeros */
        out('-', ctx);
    for (int i = len; !left && i < width; i++)
        out(pad, ctx);
    if (negative && pad != '0')
        out('-', ctx);
    while (n)
        out(digits[--n], ctx);
    for (int i = len; left && i < width; i++)
        out(' ', ctx);
}

void vformat(fmt_out out, void *ctx, const char *fmt, va_list ap)
{
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            out(*fmt, ctx);
            continue;
        }
        int left = 0, width = 0, longs = 0;
        char pad = ' ';
        for (fmt++; *fmt == '-' || *fmt == '0'; fmt++) {
            if (*fmt == '-')
                left = 1;
            else
                pad = '0';
        }
        for (; *fmt >= '0' && *fmt <= '9'; fmt++)
            width = width * 10 + (*fmt - '0');
        for (; *fmt == 'l' || *fmt == 'z'; fmt++)
            longs++;
        unsigned long long u;
        long long s;
        const char *str;
        switch (*fmt) {
        case 'd':
        case 'i':
            s = longs ? va_arg(ap, long long) : va_arg(ap, int);
            put_number(out, ctx, s < 0 ? -(unsigned long long)s : (unsigned long long)s, 10,
                       s < 0, width, pad, left);
            break;
        case 'u':
        case 'x':
            u = longs ? va_arg(ap, unsigned long long) : va_arg(ap, unsigned int);
            put_number(out, ctx, u, *fmt == 'u' ? 10 : 16, 0, width, pad, left);
            break;
        case 'p':
            out('0', ctx);
            out('x', ctx);
            put_number(out, ctx, (unsigned long long)va_arg(ap, void *), 16, 0, width, pad, left);
            break;
        case 's':
            str = va_arg(ap, const char *);
            str = str ? str : "(null)";
            for (int i = (int)strlen(str); !left && i < width; i++)
                out(' ', ctx);
            for (const char *p = str; *p; p++)
                out(*p, ctx);
            for (int i = (int)strlen(str); left && i < width; i++)
                out(' ', ctx);
            break;
        case 'c':
            out((char)va_arg(ap, int), ctx);
            break;
        case '%':
            out('%', ctx);
            break;
        default:                             /* unknown: show it rather than guess */
            out('%', ctx);
            if (!*fmt)
                return;
            out(*fmt, ctx);
        }
    }
}

struct sbuf {
    char *buf;
    size_t size, len;
};

static void sbuf_put(char c, void *ctx)
{
    struct sbuf *b = ctx;
    if (b->len + 1 < b->size)
        b->buf[b->len] = c;
    b->len++;
}

int snformat(char *buf, size_t size, const char *fmt, ...)
{
    struct sbuf b = { buf, size, 0 };
    va_list ap;
    va_start(ap, fmt);
    vformat(sbuf_put, &b, fmt, ap);
    va_end(ap);
    if (size)
        buf[b.len < size ? b.len : size - 1] = '\0';
    return (int)b.len;
}
