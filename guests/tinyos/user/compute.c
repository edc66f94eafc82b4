/* compute.c: a CPU-bound program with a checked result: a prime sieve, an integer
 * matrix product and a CRC-32. The expected values were computed independently
 * (Python: a sieve, nested sums and zlib.crc32); the exit code says whether all match. */
#include "ulib.h"

#define SIEVE_N 20000
#define M 24
#define CRC_BYTES 4096
#define EXPECT_PRIMES 2262
#define EXPECT_SUM 415883
#define EXPECT_TRACE 17299
#define EXPECT_CRC 0x5d1c4ee3u

static unsigned char composite[SIEVE_N];
static unsigned long a[M][M], b[M][M];

static int count_primes(void)
{
    int count = 0;
    for (int i = 2; i < SIEVE_N; i++) {
        if (composite[i])
            continue;
        count++;
        for (int j = i * i; j < SIEVE_N; j += i)
            composite[j] = 1;
    }
    return count;
}

static void matrix(unsigned long *sum, unsigned long *trace)
{
    for (int i = 0; i < M; i++)
        for (int j = 0; j < M; j++) {
            a[i][j] = (unsigned long)(i * 7 + j * 3) % 11;
            b[i][j] = (unsigned long)(i + 2 * j) % 13;
        }
    *sum = *trace = 0;
    for (int i = 0; i < M; i++)
        for (int j = 0; j < M; j++) {
            unsigned long c = 0;
            for (int k = 0; k < M; k++)
                c += a[i][k] * b[k][j];
            *sum += c;
            if (i == j)
                *trace += c;
        }
}

static unsigned int crc32(void)
{
    unsigned int crc = 0xFFFFFFFFu;
    for (int i = 0; i < CRC_BYTES; i++) {
        crc ^= (unsigned char)(i * 31 + 7);
        for (int bit = 0; bit < 8; bit++)
            crc = (crc >> 1) ^ (0xEDB88320u & -(crc & 1));
    }
    return ~crc;
}

int main(void)
{
    int primes = count_primes();
    unsigned long sum, trace;
    matrix(&sum, &trace);
    unsigned int crc = crc32();
    printf("compute: primes=%d matrix_sum=%lu matrix_trace=%lu crc32=0x%08x\n", primes, sum,
           trace, crc);
    return primes == EXPECT_PRIMES && sum == EXPECT_SUM && trace == EXPECT_TRACE &&
                   crc == EXPECT_CRC ? 0 : 1;
}
