/* The carbon-intensity services' answers (JSON): the first byte picks the
 * parser (Electricity Maps latest/history/forecast, UK Carbon Intensity API,
 * Energi Data Service, ipinfo), the rest is the body. Needs jansson. */
#include "fuzz_common.h"
#include "intensity/providers/providers.h"

#include <math.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    char why[512], zone[48];
    ct__iseries a = {0}, b = {0};
    ct__location loc;
    memset(&loc, 0, sizeof loc);
    loc.lat = loc.lon = NAN;
    switch (data[0] % 7) {
    case 0: ct__em_parse_latest(body, len, &a, zone, sizeof zone, why, sizeof why); break;
    case 1: ct__em_parse_list(body, len, "history", &a, why, sizeof why); break;
    case 2: ct__em_parse_list(body, len, "forecast", &a, why, sizeof why); break;
    case 3: ct__ukgrid_parse(body, len, 1779000000.0, &a, &b, why, sizeof why); break;
    case 4: ct__energidata_parse(body, len, "DK1", &a, why, sizeof why); break;
    case 5: ct__energidata_parse(body, len, NULL, &a, why, sizeof why); break;
    default: ct__ipinfo_parse(body, len, &loc, why, sizeof why); break;
    }
    /* What a parser kept must be usable by the series code. */
    ct__iseries_normalize(&a);
    ct__iseries_normalize(&b);
    if (a.n > 0) {
        double covered = 0;
        ct__iseries_mean(&a, a.p[0].t0, a.p[a.n - 1].t1, &covered);
        ct__iseries_find(&a, a.p[0].t0);
    }
    ct__iseries_free(&a);
    ct__iseries_free(&b);
    return 0;
}
