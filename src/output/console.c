/* Console text in the original's wording, and duration formatting. */
#include "output/format.h"

#include <math.h>
#include <string.h>

void ct_format_duration(double seconds, int with_hundredths, char *buf, size_t len) {
    if (!buf || len == 0) return;
    if (!(seconds >= 0) || !isfinite(seconds)) seconds = 0;
    if (with_hundredths) {
        /* Round to hundredths first so 59.999 s becomes 0:01:00.00, never 0:00:60.00. */
        double total = floor(seconds * 100.0 + 0.5) / 100.0;
        long long whole = (long long)floor(total);
        double s = total - (double)(whole - whole % 60);
        long long m = (whole / 60) % 60, h = whole / 3600;
        snprintf(buf, len, "%lld:%02lld:%05.2f", h, m, s);
    } else {
        long long whole = (long long)floor(seconds);
        snprintf(buf, len, "%lld:%02lld:%02lld", whole / 3600, (whole / 60) % 60, whole % 60);
    }
}

void ct__format_consumption(char *buf, size_t len, const char *description, double duration_s, double energy_kwh,
                            double co2eq_g, int precision, double car_km) {
    char dur[48];
    /* The original prints str(round(s)) of the seconds: to the nearest second,
     * half to even (7.907 s -> 0:00:08, 2.5 s -> 0:00:02); rint() rounds so in
     * the default rounding mode. The standard log's "Duration:" keeps hundredths. */
    if (isfinite(duration_s) && duration_s > 0 && duration_s < 1e15) duration_s = rint(duration_s);
    ct_format_duration(duration_s, 0, dur, sizeof dur);
    int n = snprintf(buf, len, "\n%s\n\tTime:\t%s\n\tEnergy:\t%.*f kWh\n\tCO2eq:\t%.*f g", description, dur, precision,
                     energy_kwh, precision, co2eq_g);
    if (n < 0 || (size_t)n >= len || !(car_km >= 0)) return;
    snprintf(buf + n, len - (size_t)n, "\n\tThis is equivalent to:\n\t%.*f km travelled by car", precision, car_km);
}
