/* Shared by the live intensity tests (test_intensity_live.c,
 * test_intensity_network.c, test_intensity_tracker.c): the mock server, the
 * notices the fetch thread gives, waits on conditions (never on time alone). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "intensity_live_support.h"

im_server il_srv;

/* ---- notices, collected from the fetch thread ---- */
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;

static char g_notices[16384];

void il_collect(void *user, int level, const char *msg) {
    (void)user;
    pthread_mutex_lock(&g_mu);
    size_t n = strlen(g_notices);
    snprintf(g_notices + n, sizeof g_notices - n, "%d:%s\n", level, msg);
    pthread_mutex_unlock(&g_mu);
}

void il_notices(char *buf, size_t len) {
    pthread_mutex_lock(&g_mu);
    snprintf(buf, len, "%s", g_notices);
    pthread_mutex_unlock(&g_mu);
}

double il_mono(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Waits until the fetch thread finished n refreshes; fails after 10 s. */
void il_wait_done(ct__live *lv, long n) {
    double end = il_mono() + 10;
    long done = 0;
    while (il_mono() < end) {
        ct__live_counts(lv, &done, NULL);
        if (done >= n) return;
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    fail_msg("the fetch thread did not finish %ld refreshes in 10 s (done %ld)", n, done);
}

int il_setup(void **state) {
    (void)state;
    im_clear_location_env();
    g_notices[0] = '\0';
    assert_int_equal(im_case(&il_srv, "ok"), 0);
    im_reset(&il_srv);
    return 0;
}

int il_group_setup(void **state) {
    (void)state;
    return im_start(&il_srv);
}

int il_group_teardown(void **state) {
    (void)state;
    im_stop(&il_srv);
    return 0;
}

/* Starts the live service for a configured location. */
ct__live *il_start(ct_config *cfg, const char *key) {
    ct__location loc;
    char why[512];
    assert_int_equal(ct__location_resolve(cfg, &loc, why, sizeof why), 0);
    ct__live *lv = ct__live_start(cfg, &loc, key, 900, il_collect, NULL, why, sizeof why);
    assert_non_null(lv);
    return lv;
}

/* 1 when a file whose name holds needle is mapped into this process. */
int il_mapped(const char *needle) {
    FILE *f = fopen("/proc/self/maps", "r");
    assert_non_null(f);
    char line[1024];
    int found = 0;
    while (fgets(line, sizeof line, f))
        if (strstr(line, needle)) found = 1;
    fclose(f);
    return found;
}

/* Waits until the notices hold needle; fails after 10 s. */
void il_wait_notice(const char *needle) {
    double end = il_mono() + 10;
    char n[16384];
    for (;;) {
        il_notices(n, sizeof n);
        if (strstr(n, needle)) return;
        if (il_mono() > end) fail_msg("no notice \"%s\" in 10 s; notices were:\n%s", needle, n);
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

void il_sleep(double s) {
    struct timespec ts = {(time_t)s, (long)((s - floor(s)) * 1e9)};
    nanosleep(&ts, NULL);
}

/* The UK mock's national series (see the server): the current half hour 263,
 * then 300 except periods 10..21 (100), 96 periods. Mean over [a, b]. */
double il_uk_mean(double t0, double a, double b) {
    ct__iseries s = {0};
    for (int k = 0; k < 96; k++)
        ct__iseries_add(&s, t0 + 1800.0 * k, t0 + 1800.0 * (k + 1), k == 0 ? 263 : (k >= 10 && k <= 21) ? 100 : 300);
    double cov, m = ct__iseries_mean(&s, a, b, &cov);
    ct__iseries_free(&s);
    return m;
}

void il_ctx_notice(void *user, int level, const char *msg) { il_collect(user, level, msg); }

/* Waits until the intensity object has its first live value. */
void il_wait_live(ct_intensity *in) {
    double end = il_mono() + 10;
    ct__intensity_value v;
    do {
        ct__intensity_now(in, ct__unix_s(), &v);
        if (v.kind != CT_INTENSITY_LIVE) il_sleep(0.01);
    } while (v.kind != CT_INTENSITY_LIVE && il_mono() < end);
    assert_int_equal(v.kind, CT_INTENSITY_LIVE);
}
