/* format.h - text formatting shared by the output channels and the results
 * readers (internal). Pure functions of values. */
#ifndef CT_OUTPUT_FORMAT_H
#define CT_OUTPUT_FORMAT_H

#include "base/base.h"

/* The original's consumption block, without the "CarbonTracker: " prefix:
 * "\n<description>\n\tTime:\t...\n\tEnergy:\t... kWh\n\tCO2eq:\t... g[\n\tThis is equivalent to:\n\t... km travelled by car]"
 * The equivalent is written when car_km >= 0 (pass -1 for none). Time is
 * rounded to the nearest second, half to even, as the original's round(). */
void ct__format_consumption(char *buf, size_t len, const char *description, double duration_s, double energy_kwh,
                            double co2eq_g, int precision, double car_km);

/* The live status line (no newline, no escape codes) into buf; returns the
 * length needed like snprintf. Pure; the tracker's thread calls it. */
int ct__status_line_render(const ct_status *st, char *buf, size_t len);

#endif /* CT_OUTPUT_FORMAT_H */
