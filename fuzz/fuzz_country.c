/* CT_COUNTRY / the country option: ct__country_resolve on any text; an
 * accepted one is an upper-case alpha-2 code with a static-table lookup that
 * does not fail in an unexpected way. */
#include "fuzz_common.h"
#include "intensity/intensity.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = '\0';
    char a2[3] = "zz", msg[400];
    int rc = ct__country_resolve(s, a2, msg, sizeof msg);
    if (rc == 0) {
        if (!(a2[0] >= 'A' && a2[0] <= 'Z' && a2[1] >= 'A' && a2[1] <= 'Z' && a2[2] == '\0')) abort();
        double g;
        int year;
        char name[64];
        int r = ct__country_intensity(a2, &g, &year, name, sizeof name);
        if (r != 0 && r != CT_ENODATA) abort();
    } else if (rc != CT_EINVAL || a2[0] != '\0' || !strstr(msg, "unknown country")) {
        abort();
    }
    free(s);
    return 0;
}
