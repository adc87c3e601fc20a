/* ISO-8601 times from services and logs: ct__parse_iso8601, and the
 * formatters on what it accepts. */
#include "base/base.h"
#include "fuzz_common.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = '\0';
    double t = 0;
    if (ct__parse_iso8601(s, &t) == 0) {
        if (!isfinite(t)) abort();
        char buf[64];
        ct__format_iso8601(t, buf, sizeof buf);
        ct__format_iso8601_minutes(t, buf, sizeof buf);
    }
    free(s);
    return 0;
}
