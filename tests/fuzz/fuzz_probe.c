/* fuzz_probe.c: the smallest libFuzzer program: meson builds it once to learn whether clang can
 * link -fsanitize=fuzzer here (Debian: the libclang-rt-dev package holds the runtime). */
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    (void)data, (void)size;
    return 0;
}
