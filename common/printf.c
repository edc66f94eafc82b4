/* printf.c: the formatter behind kprintf and ksnprintf, free of any libc.
 * Also compiled for the host, where tests/unit/test_printf.c compares it with glibc. */
#include "printf.h"

#include <stdbool.h>
#include <stdint.h>

struct spec {
    bool left, zero;
    int width;
    int length;          /* 0 int, 1 long, 2 long long, 3 size_t */
};

struct sink {
    emit_fn emit;
    void *ctx;
    int count;
};

static void put(struct sink *s, char c)
{
    s->emit(c, s->ctx);
    s->count++;
}

static void pad(struct sink *s, int n, char c)
{
    while (n-- > 0)
        put(s, c);
}

/* Print digits (and an optional sign or prefix) honouring width and flags. */
static void put_number(struct sink *s, const struct spec *sp, uint64_t v, unsigned base,
                       bool upper, const char *prefix)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char buf[24];
    int n = 0, plen = 0;
    do {
        buf[n++] = digits[v % base];
        v /= base;
    } while (v);
    while (prefix && prefix[plen])
        plen++;
    int fill = sp->width - n - plen;
    if (!sp->left && !sp->zero)
        pad(s, fill, ' ');
    for (int i = 0; i < plen; i++)
        put(s, prefix[i]);
    if (!sp->left && sp->zero)
        pad(s, fill, '0');
    while (n)
        put(s, buf[--n]);
    if (sp->left)
        pad(s, fill, ' ');
}

static uint64_t take_unsigned(const struct spec *sp, va_list *ap)
{
    switch (sp->length) {
    case 1: return va_arg(*ap, unsigned long);
    case 2: return va_arg(*ap, unsigned long long);
    case 3: return va_arg(*ap, size_t);
    default: return va_arg(*ap, unsigned int);
    }
}

static int64_t take_signed(const struct spec *sp, va_list *ap)
{
    switch (sp->length) {
    case 1: return va_arg(*ap, long);
    case 2: return va_arg(*ap, long long);
    case 3: return (int64_t)va_arg(*ap, size_t);
    default: return va_arg(*ap, int);
    }
}

static const char *parse_spec(const char *f, struct spec *sp, va_list *ap)
{
    *sp = (struct spec){0};
    for (;; f++) {
        if (*f == '-')
            sp->left = true;
        else if (*f == '0')
            sp->zero = true;
        else
            break;
    }
    if (*f == '*') {
        sp->width = va_arg(*ap, int);
        if (sp->width < 0) {
            sp->left = true;
            sp->width = -sp->width;
        }
        f++;
    }
    while (*f >= '0' && *f <= '9')
        sp->width = sp->width * 10 + (*f++ - '0');
    if (*f == 'z') {
        sp->length = 3;
        f++;
    }
    while (*f == 'l') {
        sp->length++;
        f++;
    }
    if (sp->length > 3)
        sp->length = 2;
    return f;
}

static void put_string(struct sink *s, const struct spec *sp, const char *str)
{
    int len = 0;
    if (!str)
        str = "(null)";
    while (str[len])
        len++;
    if (!sp->left)
        pad(s, sp->width - len, ' ');
    for (int i = 0; i < len; i++)
        put(s, str[i]);
    if (sp->left)
        pad(s, sp->width - len, ' ');
}

int kvformat(emit_fn emit, void *ctx, const char *fmt, va_list ap_in)
{
    struct sink s = {emit, ctx, 0};
    struct spec sp;
    va_list ap;
    va_copy(ap, ap_in);
    for (const char *f = fmt; *f; f++) {
        if (*f != '%') {
            put(&s, *f);
            continue;
        }
        f = parse_spec(f + 1, &sp, &ap);
        switch (*f) {
        case 'd':
        case 'i': {
            int64_t v = take_signed(&sp, &ap);
            uint64_t mag = v < 0 ? -(uint64_t)v : (uint64_t)v;
            put_number(&s, &sp, mag, 10, false, v < 0 ? "-" : 0);
            break;
        }
        case 'u': put_number(&s, &sp, take_unsigned(&sp, &ap), 10, false, 0); break;
        case 'x': put_number(&s, &sp, take_unsigned(&sp, &ap), 16, false, 0); break;
        case 'X': put_number(&s, &sp, take_unsigned(&sp, &ap), 16, true, 0); break;
        case 'p':
            sp.zero = true;
            sp.width = 18;
            put_number(&s, &sp, (uintptr_t)va_arg(ap, void *), 16, false, "0x");
            break;
        case 'c': put(&s, (char)va_arg(ap, int)); break;
        case 's': put_string(&s, &sp, va_arg(ap, const char *)); break;
        case '%': put(&s, '%'); break;
        case '\0': f--; break;              /* lone '%' at the end */
        default: put(&s, '%'); put(&s, *f); break;
        }
    }
    va_end(ap);
    return s.count;
}

struct buffer {
    char *buf;
    size_t size, used;
};

static void emit_to_buffer(char c, void *ctx)
{
    struct buffer *b = ctx;
    if (b->used + 1 < b->size)
        b->buf[b->used] = c;
    b->used++;
}

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct buffer b = {buf, size, 0};
    int n = kvformat(emit_to_buffer, &b, fmt, ap);
    if (size)
        buf[b.used < size ? b.used : size - 1] = '\0';
    return n;
}

int ksnprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = kvsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}
