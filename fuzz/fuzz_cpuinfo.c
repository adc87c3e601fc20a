/* /proc/cpuinfo: the model name cleaned and matched against the TDP table
 * (ct__cpu_tdp_lookup), for every "model name" line of the input and for the
 * input as one name. */
#include "fuzz_common.h"
#include "sources/source.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void lookup(const char *model) {
    double tdp = -1;
    char matched[256];
    if (ct__cpu_tdp_lookup(model, &tdp, matched, sizeof matched) == 0 && !(tdp > 0 && isfinite(tdp))) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = '\0';
    for (char *line = s, *next; line; line = next) {
        next = strchr(line, '\n');
        if (next) *next++ = '\0';
        if (strncmp(line, "model name", 10) != 0) continue;
        char *colon = strchr(line, ':');
        if (colon) lookup(colon + 1 + (colon[1] == ' '));
    }
    free(s);
    if (size < 512) {
        char name[512];
        memcpy(name, data, size);
        name[size] = '\0';
        lookup(name);
    }
    return 0;
}
