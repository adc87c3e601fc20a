/*
 * bench_loaded - what a tracked program carries: it links the shared
 * libcarbontracker.so, tracks one empty epoch of a simulated CPU, then prints
 * the number of distinct shared objects mapped (/proc/self/maps) and its
 * resident memory (VmRSS). Rendering code is loaded only by ct_report_render
 * (libcarbontracker-report.so), so cairo and X11 never show up here.
 *
 *   bench_loaded        (docs/parse-formats.md has the figures)
 */
#include "carbontracker.h"

#include <stdio.h>
#include <string.h>

int main(void) {
    ct_config c;
    ct_config_init(&c);
    c.verbose = 0;
    c.sim_cpu = "Simulated CPU";
    c.sim_cpu_tdp = 100;
    c.epochs = 1;
    c.offline = 1;
    ct_tracker *t = NULL;
    if (ct_tracker_new(&c, &t)) {
        fprintf(stderr, "ct_tracker_new: %s\n", ct_last_error_message());
        return 1;
    }
    ct_epoch_start(t);
    ct_epoch_end(t);
    ct_stop(t);
    FILE *f = fopen("/proc/self/maps", "r");
    char line[1024], last[1024] = "";
    int n = 0, graphics = 0;
    while (f && fgets(line, sizeof line, f)) {
        char *p = strchr(line, '/');
        if (!p || !strstr(p, ".so") || strcmp(p, last) == 0) continue;
        snprintf(last, sizeof last, "%s", p);
        n++;
        if (strstr(p, "cairo") || strstr(p, "X11") || strstr(p, "xcb") || strstr(p, "pixman") ||
            strstr(p, "fontconfig") || strstr(p, "freetype"))
            graphics++;
    }
    if (f) fclose(f);
    long rss = 0;
    f = fopen("/proc/self/status", "r");
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0) sscanf(line + 6, "%ld", &rss);
    if (f) fclose(f);
    printf("bench_loaded: %s (%s): %d shared objects mapped (%d of cairo/X11/fonts), VmRSS %ld kB\n", ct_version(),
           ct_features(), n, graphics, rss);
    ct_tracker_free(t);
    return 0;
}
