/* The powercap counter text (energy_uj, max_energy_range_uj): ct__parse_u64. */
#include "base/base.h"
#include "fuzz_common.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = '\0';
    uint64_t v = 0;
    if (ct__parse_u64(s, &v) == 0) {
        /* Accepted text is digits (after blanks) and only blanks after them. */
        const char *p = s;
        while (*p == ' ' || *p == '\t') p++;
        if (*p < '0' || *p > '9') abort();
    }
    free(s);
    return 0;
}
