/* bench_intensity - issue 4 targets, against tests/mock_intensity_server.py:
 *  1. ct_tracker_new (and ct_tracker_free) while the intensity service never
 *     answers, vs offline: the live fetch runs on its own thread, so creating
 *     a tracker does not wait for it.
 *  2. Heap in use across many refreshes of the live service (good answers,
 *     then a mix of bad ones): it must not grow with the number of refreshes.
 *  0. (first, issue 9 item 6) what this process maps: shared libraries and
 *     resident memory after an offline tracked epoch, before any request,
 *     and after the first live request (libcurl is loaded then, not before).
 *
 * Usage: bench_intensity [trackers=200] [refreshes=1000] [bad_refreshes=400]
 * Needs python3 (env CT_PYTHON) and the source tree (env CT_TEST_SOURCE_DIR,
 * default: the tests/ folder this was built from). */
#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "intensity/live.h"
#include "intensity_mock.h"

static double mono(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void stats(const char *label, double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    printf("| %-44s | %7.3f | %7.3f | %7.3f | %7.3f |\n", label, v[0] * 1e3, v[n / 2] * 1e3,
           v[(int)floor(0.99 * (n - 1))] * 1e3, v[n - 1] * 1e3);
}

static void trackers(int n, const char *label, int offline) {
    if (n <= 0) return;
    double *tn = calloc((size_t)n, sizeof *tn), *tf = calloc((size_t)n, sizeof *tf);
    for (int i = 0; i < n; i++) {
        ct_config cfg;
        ct_config_init(&cfg);
        cfg.epochs = 1;
        cfg.verbose = 0;
        cfg.sim_cpu = "bench cpu";
        cfg.sim_cpu_tdp = 100;
        cfg.components = "cpu";
        cfg.country = "GB";
        cfg.offline = offline;
        ct_tracker *t = NULL;
        double a = mono();
        int rc = ct_tracker_new(&cfg, &t);
        double b = mono();
        if (rc) {
            fprintf(stderr, "ct_tracker_new: %s\n", ct_last_error_message());
            exit(1);
        }
        /* let the fetch start (the request is in flight when we free) */
        struct timespec ts = {0, 2 * 1000 * 1000};
        nanosleep(&ts, NULL);
        double c = mono();
        ct_tracker_free(t);
        double d = mono();
        tn[i] = b - a;
        tf[i] = d - c;
    }
    char l[128];
    snprintf(l, sizeof l, "ct_tracker_new, %s", label);
    stats(l, tn, n);
    snprintf(l, sizeof l, "ct_tracker_free, %s", label);
    stats(l, tf, n);
    free(tn);
    free(tf);
}

#if defined(__SANITIZE_ADDRESS__)
size_t __sanitizer_get_current_allocated_bytes(void); /* ASan runtime (sanitizer/allocator_interface.h) */
/* Under ASan: the sanitizer's own count of live heap bytes. */
static size_t heap_in_use(void) { return __sanitizer_get_current_allocated_bytes(); }
#define HEAP_METHOD "ASan __sanitizer_get_current_allocated_bytes"
#else
/* glibc: bytes in allocated chunks. Chunks parked in glibc's per-thread
 * cache count as allocated: run with GLIBC_TUNABLES=glibc.malloc.tcache_count=0
 * to see the library's own use. */
static size_t heap_in_use(void) {
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks;
}
#define HEAP_METHOD "glibc mallinfo2 uordblks"
#endif

static void wait_done(ct__live *lv, long n) {
    long done = 0;
    double end = mono() + 30;
    while (mono() < end) {
        ct__live_counts(lv, &done, NULL);
        if (done >= n) return;
        struct timespec ts = {0, 200 * 1000};
        nanosleep(&ts, NULL);
    }
    fprintf(stderr, "refresh %ld did not finish\n", n);
    exit(1);
}

static void refreshes(im_server *srv, const char *what, ct_config *cfg, const char *key, int n, int bad) {
    static const char *bad_cases[] = {"garbage", "truncated", "500", "429", "nulls", "empty", "missing", "big"};
    ct__location loc;
    char why[512];
    if (ct__location_resolve(cfg, &loc, why, sizeof why)) {
        fprintf(stderr, "%s\n", why);
        exit(1);
    }
    im_case(srv, "ok");
    ct__live *lv = ct__live_start(cfg, &loc, key, 3600, NULL, NULL, why, sizeof why);
    if (!lv) {
        fprintf(stderr, "live: %s\n", why);
        exit(1);
    }
    wait_done(lv, 1);
    size_t h0 = heap_in_use(), h10 = 0, h100 = 0, hhalf = 0;
    double t0 = mono();
    for (int i = 2; i <= n + 1; i++) {
        ct__live_refresh_now(lv);
        wait_done(lv, i);
        if (i == 11) h10 = heap_in_use();
        if (i == 101) h100 = heap_in_use();
        if (i == n / 2 + 1) hhalf = heap_in_use();
    }
    double dt = mono() - t0;
    size_t hn = heap_in_use();
    long done, ok;
    ct__live_counts(lv, &done, &ok);
    printf("| %-32s | %5d | %9zu | %9zu | %9zu | %9zu | %9zu | %6ld | %6.2f |\n", what, n, h0, h10, h100, hhalf, hn, ok,
           dt * 1e3 / n);
    if (bad) {
        size_t b0 = heap_in_use();
        for (int i = 0; i < bad; i++) {
            im_case(srv, bad_cases[i % 8]);
            ct__live_refresh_now(lv);
            wait_done(lv, n + 2 + i);
        }
        size_t b1 = heap_in_use();
        ct__live_counts(lv, &done, &ok);
        printf("| %-32s | %5d | %9zu | %9s | %9s | %9s | %9zu | %6ld |        |\n", "  then bad answers (8 kinds)", bad,
               b0, "", "", "", b1, ok);
    }
    ct__live_stop(lv);
}

/* Shared libraries mapped (distinct files ending in .so*) and VmRSS (kB). */
static void mapped_now(const char *label) {
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f) return;
    char line[1024], seen[256][256];
    int n = 0, curl = 0;
    while (fgets(line, sizeof line, f)) {
        char *p = strchr(line, '/');
        if (!p || !strstr(p, ".so")) continue;
        p[strcspn(p, "\n")] = '\0';
        int dup = 0;
        for (int i = 0; i < n && !dup; i++) dup = strcmp(seen[i], p) == 0;
        if (dup || n == 256) continue;
        snprintf(seen[n++], sizeof seen[0], "%s", p);
        if (strstr(p, "libcurl")) curl = 1;
    }
    fclose(f);
    long rss = -1;
    f = fopen("/proc/self/status", "r");
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0) rss = atol(line + 6);
    if (f) fclose(f);
    printf("| %-44s | %7d | %7s | %9ld |\n", label, n, curl ? "yes" : "no", rss);
}

static void offline_epoch(void) {
    ct_config cfg;
    ct_config_init(&cfg);
    cfg.epochs = 1;
    cfg.verbose = 0;
    cfg.sim_cpu = "bench cpu";
    cfg.sim_cpu_tdp = 100;
    cfg.components = "cpu";
    cfg.country = "GB";
    cfg.offline = 1;
    ct_tracker *t = NULL;
    if (ct_tracker_new(&cfg, &t) || ct_epoch_start(t) || ct_epoch_end(t)) {
        fprintf(stderr, "offline tracker: %s\n", ct_last_error_message());
        exit(1);
    }
    ct_tracker_free(t);
}

int main(int argc, char **argv) {
    int ntrackers = argc > 1 ? atoi(argv[1]) : 200;
    int nref = argc > 2 ? atoi(argv[2]) : 1000;
    int nbad = argc > 3 ? atoi(argv[3]) : 400;
    setenv("CT_TEST_SOURCE_DIR", getenv("CT_TEST_SOURCE_DIR") ? getenv("CT_TEST_SOURCE_DIR") : CT_TESTS_DIR, 1);
    const char *unset[] = {"CT_OFFLINE", "CT_COUNTRY", "CT_ZONE", "CT_POSTCODE", "CT_HTTP_TIMEOUT_MS", NULL};
    for (int i = 0; unset[i]; i++) unsetenv(unset[i]);
    im_server srv;
    if (im_start(&srv)) {
        fprintf(stderr, "could not start the mock server (python3 and tests/mock_intensity_server.py)\n");
        return 1;
    }
    printf("What this process maps (libcurl is loaded on the first request, not linked):\n\n");
    printf("| %-44s | %7s | %7s | %9s |\n", "", ".so", "libcurl", "VmRSS kB");
    printf("|----------------------------------------------|---------|---------|-----------|\n");
    mapped_now("start of main");
    offline_epoch();
    mapped_now("after an offline tracked epoch");
    {
        ct_config cfg;
        ct_config_init(&cfg);
        cfg.country = "GB";
        ct__location loc;
        char why[512];
        ct__location_resolve(&cfg, &loc, why, sizeof why);
        ct__live *lv = ct__live_start(&cfg, &loc, NULL, 3600, NULL, NULL, why, sizeof why);
        if (!lv) {
            fprintf(stderr, "live: %s\n", why);
            return 1;
        }
        wait_done(lv, 1);
        ct__live_stop(lv);
    }
    mapped_now("after the first live request");
    printf("\n");
    printf("ct_tracker_new / ct_tracker_free, %d trackers each (simulated CPU, country GB), ms:\n\n", ntrackers);
    printf("| %-44s | %7s | %7s | %7s | %7s |\n", "", "min", "median", "p99", "max");
    printf("|----------------------------------------------|---------|---------|---------|---------|\n");
    trackers(ntrackers, "offline (no fetch thread)", 1);
    im_case(&srv, "hang");
    trackers(ntrackers, "service never answers", 0);
    im_case(&srv, "ok");
    trackers(ntrackers, "service answers", 0);

    const char *tun = getenv("GLIBC_TUNABLES");
    printf("\nHeap in use (%s%s%s, bytes) across refreshes of one live service:\n\n", HEAP_METHOD,
           tun ? ", GLIBC_TUNABLES=" : "", tun ? tun : "");
    printf("| %-32s | %5s | %9s | %9s | %9s | %9s | %9s | %6s | %6s |\n", "service", "n", "after 1", "after 10",
           "after 100", "after n/2", "after n", "ok", "ms/ref");
    printf("|----------------------------------|-------|-----------|-----------|-----------|-----------|-----------|"
           "--------|--------|\n");
    ct_config cfg;
    ct_config_init(&cfg);
    cfg.country = "GB";
    refreshes(&srv, "UK national (2 requests)", &cfg, NULL, nref, nbad);
    ct_config_init(&cfg);
    cfg.postcode = "RG10";
    refreshes(&srv, "UK regional (2 requests)", &cfg, NULL, nref, 0);
    ct_config_init(&cfg);
    cfg.zone = "DE";
    refreshes(&srv, "Electricity Maps (2 requests)", &cfg, "bench-key", nref, 0);
    ct_config_init(&cfg);
    cfg.country = "DK";
    refreshes(&srv, "Energi Data Service (2 requests)", &cfg, NULL, nref, 0);
    im_stop(&srv);
    return 0;
}
