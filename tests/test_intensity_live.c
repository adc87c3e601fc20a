/* Issue 4: live providers against tests/mock_intensity_server.py on
 * 127.0.0.1: the documented shapes give known values; every bad case (HTTP
 * errors, garbage, truncated, nulls, missing, empty, too big, a server that
 * never answers) ends in "no live value" plus a warning, never a crash or a
 * hang; the key never shows; offline means no request at all. Also ct_plan and
 * `carbontracker plan` end to end. */
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
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "intensity/live.h"
#include "intensity_mock.h"
#include "test_support.h"

static im_server g_srv;

/* ---- notices, collected from the fetch thread ---- */
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static char g_notices[16384];

static void collect(void *user, int level, const char *msg) {
    (void)user;
    pthread_mutex_lock(&g_mu);
    size_t n = strlen(g_notices);
    snprintf(g_notices + n, sizeof g_notices - n, "%d:%s\n", level, msg);
    pthread_mutex_unlock(&g_mu);
}

static void notices(char *buf, size_t len) {
    pthread_mutex_lock(&g_mu);
    snprintf(buf, len, "%s", g_notices);
    pthread_mutex_unlock(&g_mu);
}

static double mono(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Waits until the fetch thread finished n refreshes; fails after 10 s. */
static void wait_done(ct__live *lv, long n) {
    double end = mono() + 10;
    long done = 0;
    while (mono() < end) {
        ct__live_counts(lv, &done, NULL);
        if (done >= n) return;
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    fail_msg("the fetch thread did not finish %ld refreshes in 10 s (done %ld)", n, done);
}

static int setup(void **state) {
    (void)state;
    const char *unset[] = {"CT_COUNTRY", "CT_ZONE", "CT_POSTCODE", "CT_LATITUDE", "CT_LONGITUDE", "CT_OFFLINE",
                           "CT_CLOUD_PROVIDER", "CT_CLOUD_REGION", "CT_ELECTRICITYMAPS_KEY",
                           "CT_ELECTRICITYMAPS_KEY_FILE", "CT_HTTP_TIMEOUT_MS", NULL};
    for (int i = 0; unset[i]; i++) unsetenv(unset[i]);
    setenv("XDG_CONFIG_HOME", "/nonexistent-ct-test", 1);
    g_notices[0] = '\0';
    assert_int_equal(im_case(&g_srv, "ok"), 0);
    im_reset(&g_srv);
    return 0;
}

static int group_setup(void **state) {
    (void)state;
    return im_start(&g_srv);
}

static int group_teardown(void **state) {
    (void)state;
    im_stop(&g_srv);
    return 0;
}

/* Starts the live service for a configured location. */
static ct__live *start(ct_config *cfg, const char *key) {
    ct__location loc;
    char why[512];
    assert_int_equal(ct__location_resolve(cfg, &loc, why, sizeof why), 0);
    ct__live *lv = ct__live_start(cfg, &loc, key, 900, collect, NULL, why, sizeof why);
    assert_non_null(lv);
    return lv;
}

/* 1 when a file whose name holds needle is mapped into this process. */
static int mapped(const char *needle) {
    FILE *f = fopen("/proc/self/maps", "r");
    assert_non_null(f);
    char line[1024];
    int found = 0;
    while (fgets(line, sizeof line, f))
        if (strstr(line, needle)) found = 1;
    fclose(f);
    return found;
}

/* Issue 9 item 6: libcurl (and its TLS stack) is not linked: a tracked run
 * that asks no network never maps it; the first request loads it. Runs first
 * in this file, before any request. */
static void test_libcurl_loaded_only_when_used(void **state) {
    (void)state;
    ct_config cfg;
    ct_config_init(&cfg);
    cfg.epochs = 1;
    cfg.update_interval = 0.05;
    cfg.verbose = 0;
    cfg.sim_cpu = "test cpu";
    cfg.sim_cpu_tdp = 100;
    cfg.components = "cpu";
    cfg.country = "DK";
    cfg.offline = 1;
    ct_tracker *t = NULL;
    assert_int_equal(ct_tracker_new(&cfg, &t), 0);
    assert_int_equal(ct_epoch_start(t), 0);
    assert_int_equal(ct_epoch_end(t), 0);
    ct_tracker_free(t);
    assert_int_equal(mapped("libcurl"), 0);
    /* the first live request loads it */
    ct_config_init(&cfg);
    cfg.country = "GB";
    ct__live *lv = start(&cfg, NULL);
    wait_done(lv, 1);
    ct__live_stop(lv);
    assert_int_equal(mapped("libcurl"), 1);
}

/* Without libcurl.so.4 at run time: a clear message, the static table
 * serves, the wrapped command runs (CT_CURL_LIBRARY names a missing file). */
static void test_without_libcurl_at_run_time(void **state) {
    (void)state;
    const char *cli = ts_env("CT_CLI");
    char *env[] = {"CT_CURL_LIBRARY=/nonexistent/libcurl.so.4", NULL};
    char *out = NULL, *err = NULL;
    char *a1[] = {(char *)cli, "plan", "--duration", "1h", "--country", "GB", NULL};
    int rc = ts_run(a1, env, &out, &err);
    if (rc != 1 || strcmp(err, "carbontracker plan: no forecast: UK Carbon Intensity API: live intensity needs "
                               "libcurl.so.4 (apt install libcurl4)\n") != 0)
        fail_msg("plan: exit %d, stderr \"%s\"", rc, err ? err : "");
    free(out);
    free(err);
    /* in a tracked process: the fetch thread says so once and ends; the
     * static table serves (a child, so that this process has not loaded
     * libcurl yet: this test runs first) */
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        setenv("CT_CURL_LIBRARY", "/nonexistent/libcurl.so.4", 1);
        ct_config cfg;
        ct_config_init(&cfg);
        cfg.country = "GB";
        ct__location loc;
        char why[512];
        ct__location_resolve(&cfg, &loc, why, sizeof why);
        ct__live *lv = ct__live_start(&cfg, &loc, NULL, 900, collect, NULL, why, sizeof why);
        const char *want = "1:live carbon intensity: UK Carbon Intensity API: live intensity needs libcurl.so.4 (apt "
                           "install libcurl4); the static table serves\n";
        char n[16384] = "";
        for (double end = mono() + 10; mono() < end && !strstr(n, want);) {
            struct timespec ts = {0, 10 * 1000 * 1000};
            nanosleep(&ts, NULL);
            notices(n, sizeof n);
        }
        ct__intensity_value v;
        int live = ct__live_now(lv, ct__unix_s(), &v);
        ct__live_stop(lv);
        if (!strstr(n, want) || live || mapped("libcurl")) {
            fprintf(stderr, "child: live %d, notices:\n%s", live, n);
            _exit(1);
        }
        _exit(0);
    }
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    assert_int_equal(im_requests(&g_srv), 0);
}

static void test_ukgrid_national_now_and_forecast(void **state) {
    (void)state;
    ct_config cfg;
    ct_config_init(&cfg);
    cfg.country = "GB";
    double now = ct__unix_s();
    ct__live *lv = start(&cfg, NULL);
    wait_done(lv, 1);
    ct__intensity_value v;
    assert_int_equal(ct__live_now(lv, now, &v), 1);
    assert_true(v.g_per_kwh == 263);
    assert_int_equal(v.kind, CT_INTENSITY_LIVE);
    double t0 = floor(now / 1800) * 1800;
    char iso[32], expect[200];
    ct__format_iso8601(t0, iso, sizeof iso);
    snprintf(expect, sizeof expect, "UK Carbon Intensity API, national, %s", iso);
    assert_string_equal(v.source, expect);
    /* an hour ahead: the forecast (k = 2 or 3 -> 300) */
    assert_int_equal(ct__live_now(lv, now + 3600, &v), 1);
    assert_int_equal(v.kind, CT_INTENSITY_FORECAST);
    assert_true(v.g_per_kwh == 300);
    /* mean over the next 6 h: (1800-d) x 263 + 9 x 1800 x 300 + (3600+d) x 100 */
    double d = now - t0;
    double expect_mean = ((1800 - d) * 263 + 16200.0 * 300 + (3600 + d) * 100) / 21600.0;
    assert_int_equal(ct__live_over(lv, now, now + 21600, &v), 1);
    assert_int_equal(v.kind, CT_INTENSITY_FORECAST);
    assert_true(fabs(v.g_per_kwh - expect_mean) < 1e-6);
    assert_non_null(strstr(v.source, "UK Carbon Intensity API forecast, national, mean "));
    /* beyond the 48 h horizon the mean covers part of the period and says so */
    assert_int_equal(ct__live_over(lv, now, now + 96 * 3600.0, &v), 1);
    char covers[32];
    snprintf(covers, sizeof covers, "(covers %.0f%%)", 100.0 * (t0 + 48 * 3600.0 - now) / (96 * 3600.0));
    assert_non_null(strstr(v.source, covers));
    ct__live_stop(lv);
    char log[4096];
    char *l = im_get(&g_srv, "/_log");
    snprintf(log, sizeof log, "%s", l);
    free(l);
    assert_non_null(strstr(log, "\"path\": \"/intensity\""));
    assert_non_null(strstr(log, "/fw48h"));
    assert_non_null(strstr(log, "\"accept\": \"application/json\""));
    assert_null(strstr(log, "\"path\": \"/json\"")); /* a location was given: no IP geolocation */
}

static void test_ukgrid_regional_list_and_object(void **state) {
    (void)state;
    const char *cases[] = {"ok", "regional_object"};
    for (int c = 0; c < 2; c++) {
        assert_int_equal(im_case(&g_srv, cases[c]), 0);
        ct_config cfg;
        ct_config_init(&cfg);
        cfg.postcode = "RG10 9XY";
        double now = ct__unix_s();
        ct__live *lv = start(&cfg, NULL);
        wait_done(lv, 1);
        ct__intensity_value v;
        assert_int_equal(ct__live_now(lv, now, &v), 1);
        assert_true(v.g_per_kwh == 180);
        assert_non_null(strstr(v.source, "UK Carbon Intensity API, postcode RG10, "));
        /* regional forecast: 200, k = 4..9 -> 50 */
        double t0 = floor(now / 1800) * 1800;
        assert_int_equal(ct__live_now(lv, t0 + 5 * 1800 + 1, &v), 1);
        assert_true(v.g_per_kwh == 50);
        assert_int_equal(v.kind, CT_INTENSITY_FORECAST);
        ct__live_stop(lv);
    }
    char *log = im_get(&g_srv, "/_log");
    assert_non_null(strstr(log, "/regional/postcode/RG10\""));
    assert_non_null(strstr(log, "/regional/intensity/"));
    free(log);
}

static void test_energidata_areas(void **state) {
    (void)state;
    struct {
        const char *zone;
        double now_g, prog_g_hour3;
    } cases[] = {{NULL, 100, 80}, {"DK-DK1", 120, 60}, {"DK-DK2", 80, 100}};
    for (int c = 0; c < 3; c++) {
        ct_config cfg;
        ct_config_init(&cfg);
        cfg.country = "DK";
        cfg.zone = cases[c].zone;
        double now = ct__unix_s();
        ct__live *lv = start(&cfg, NULL);
        wait_done(lv, 1);
        ct__intensity_value v;
        /* the newest measurement ends before now: it stays current, labelled live */
        assert_int_equal(ct__live_now(lv, floor(now / 300) * 300 - 1, &v), 1);
        assert_int_equal(v.kind, CT_INTENSITY_LIVE);
        assert_true(fabs(v.g_per_kwh - cases[c].now_g) < 1e-9);
        assert_non_null(strstr(v.source, "Energi Data Service, "));
        /* 3 h ahead: DK1 60, DK2 100, both (60+100)/2 */
        assert_int_equal(ct__live_now(lv, floor(now / 300) * 300 + 3 * 3600 + 1, &v), 1);
        assert_int_equal(v.kind, CT_INTENSITY_FORECAST);
        assert_true(fabs(v.g_per_kwh - cases[c].prog_g_hour3) < 1e-9);
        ct__live_stop(lv);
    }
    char *log = im_get(&g_srv, "/_log");
    assert_non_null(strstr(log, "/dataset/CO2Emis?filter=%7B%22PriceArea%22%3A%5B%22DK1%22%5D%7D"));
    assert_non_null(strstr(log, "/dataset/CO2EmisProg?"));
    free(log);
}

static void test_electricitymaps_key_and_forecast(void **state) {
    (void)state;
    ct_config cfg;
    ct_config_init(&cfg);
    cfg.zone = "DE";
    double now = ct__unix_s();
    ct__live *lv = start(&cfg, "SECRET-KEY-42");
    wait_done(lv, 1);
    ct__intensity_value v;
    assert_int_equal(ct__live_now(lv, now, &v), 1);
    assert_true(v.g_per_kwh == 302);
    assert_int_equal(v.kind, CT_INTENSITY_LIVE);
    char iso[32], expect[200];
    ct__format_iso8601(floor(now / 3600) * 3600, iso, sizeof iso);
    snprintf(expect, sizeof expect, "Electricity Maps, zone DE, %s", iso);
    assert_string_equal(v.source, expect);
    /* history: 250 the hour before */
    assert_int_equal(ct__live_now(lv, now - 3600, &v), 1);
    assert_true(v.g_per_kwh == 250);
    /* forecast hours 3..8 are 150 */
    assert_int_equal(ct__live_now(lv, floor(now / 3600) * 3600 + 4 * 3600, &v), 1);
    assert_true(v.g_per_kwh == 150);
    assert_int_equal(v.kind, CT_INTENSITY_FORECAST);
    ct__live_stop(lv);
    char *log = im_get(&g_srv, "/_log");
    assert_non_null(strstr(log, "\"path\": \"/carbon-intensity/latest?zone=DE\", \"auth\": \"SECRET-KEY-42\""));
    assert_non_null(strstr(log, "/carbon-intensity/history?zone=DE"));
    assert_non_null(strstr(log, "/carbon-intensity/forecast?zone=DE"));
    free(log);
    char n[16384];
    notices(n, sizeof n);
    assert_null(strstr(n, "SECRET-KEY-42"));
}

static void test_electricitymaps_forecast_refused(void **state) {
    (void)state;
    assert_int_equal(im_case(&g_srv, "forecast_denied"), 0);
    ct_config cfg;
    ct_config_init(&cfg);
    cfg.country = "DE";
    double now = ct__unix_s();
    ct__live *lv = start(&cfg, "k3y");
    wait_done(lv, 1);
    ct__intensity_value v;
    /* no forecast: the prediction gets the live value */
    assert_int_equal(ct__live_over(lv, now, now + 6 * 3600, &v), 1);
    assert_int_equal(v.kind, CT_INTENSITY_LIVE);
    assert_true(v.g_per_kwh == 302);
    char n[16384];
    notices(n, sizeof n);
    assert_non_null(strstr(n, "Electricity Maps forecast: HTTP 403 forbidden (not in this plan or key) (forecast is "
                              "not in your plan); the prediction uses the current value"));
    /* the next refresh does not ask for the forecast again */
    im_reset(&g_srv);
    ct__live_refresh_now(lv);
    wait_done(lv, 2);
    ct__live_stop(lv);
    char *log = im_get(&g_srv, "/_log");
    assert_non_null(strstr(log, "/carbon-intensity/latest?zone=DE"));
    assert_null(strstr(log, "/forecast"));
    assert_null(strstr(log, "/history")); /* history only on the first refresh */
    free(log);
}

/* Every bad case for every service: no live value, a warning, no crash. */
static void test_bad_cases_fall_back(void **state) {
    (void)state;
    const char *cases[] = {"401", "403", "429", "500", "garbage", "truncated", "nulls", "missing", "empty", "big"};
    const char *expect[] = {"HTTP 401", "HTTP 403", "HTTP 429 rate limited", "HTTP 500 server error",
                            "malformed JSON", "malformed JSON", "", "", "", "larger than 4194304 bytes"};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        for (int p = 0; p < 4; p++) {
            setup(NULL);
            assert_int_equal(im_case(&g_srv, cases[c]), 0);
            ct_config cfg;
            ct_config_init(&cfg);
            const char *key = NULL;
            if (p == 0) cfg.country = "GB";
            if (p == 1) cfg.postcode = "SW1";
            if (p == 2) cfg.country = "DK";
            if (p == 3) cfg.zone = "DE", key = "KEY-NEVER-SHOWN";
            ct__live *lv = start(&cfg, key);
            wait_done(lv, 1);
            ct__intensity_value v;
            double now = ct__unix_s();
            if (ct__live_now(lv, now, &v) || ct__live_over(lv, now, now + 3600, &v))
                fail_msg("case %s provider %d gave a live value %g (%s)", cases[c], p, v.g_per_kwh, v.source);
            long done, ok;
            ct__live_counts(lv, &done, &ok);
            assert_int_equal(ok, 0);
            ct__live_stop(lv);
            char n[16384];
            notices(n, sizeof n);
            if (!strstr(n, "1:live carbon intensity: ") || !strstr(n, expect[c]) ||
                !strstr(n, "using the static table until it answers"))
                fail_msg("case %s provider %d: notices were:\n%s", cases[c], p, n);
            assert_null(strstr(n, "KEY-NEVER-SHOWN"));
        }
    }
}

static void test_hanging_server_times_out_and_stop_is_quick(void **state) {
    (void)state;
    assert_int_equal(im_case(&g_srv, "hang"), 0);
    setenv("CT_HTTP_TIMEOUT_MS", "300", 1);
    ct_config cfg;
    ct_config_init(&cfg);
    cfg.country = "GB";
    double t0 = mono();
    ct__live *lv = start(&cfg, NULL);
    double started = mono() - t0;
    assert_true(started < 0.05); /* starting never waits for the network */
    wait_done(lv, 1);
    double took = mono() - t0;
    assert_true(took < 2.0);
    ct__intensity_value v;
    assert_int_equal(ct__live_now(lv, ct__unix_s(), &v), 0);
    ct__live_stop(lv);
    char n[16384];
    notices(n, sizeof n);
    assert_non_null(strstr(n, "UK Carbon Intensity API: no answer within 300 ms"));

    /* with the default 8 s timeout, stopping abandons the request at once */
    unsetenv("CT_HTTP_TIMEOUT_MS");
    lv = start(&cfg, NULL);
    struct timespec ts = {0, 200 * 1000 * 1000};
    nanosleep(&ts, NULL); /* the request is now in flight */
    t0 = mono();
    ct__live_stop(lv);
    assert_true(mono() - t0 < 0.5);
}

/* A base URL that refuses connections, or is not http(s), fails fast with a reason. */
static void test_unreachable_and_non_http_urls(void **state) {
    (void)state;
    const char *urls[] = {"http://127.0.0.1:1", "file:///etc", "ftp://127.0.0.1:1"};
    const char *expect[] = {"UK Carbon Intensity API: Failed to connect to 127.0.0.1 port 1",
                            "UK Carbon Intensity API: Protocol \"file\" not supported",
                            "UK Carbon Intensity API: Protocol \"ftp\" not supported"};
    for (int i = 0; i < 3; i++) {
        setup(NULL);
        setenv("CT_UKGRID_URL", urls[i], 1);
        ct_config cfg;
        ct_config_init(&cfg);
        cfg.country = "GB";
        double t0 = mono();
        ct__live *lv = start(&cfg, NULL);
        wait_done(lv, 1);
        assert_true(mono() - t0 < 2.0);
        ct__intensity_value v;
        assert_int_equal(ct__live_now(lv, ct__unix_s(), &v), 0);
        ct__live_stop(lv);
        char n[16384];
        notices(n, sizeof n);
        if (!strstr(n, expect[i]) || !strstr(n, "using the static table until it answers"))
            fail_msg("%s: notices were:\n%s", urls[i], n);
    }
    setenv("CT_UKGRID_URL", g_srv.base, 1);
    assert_int_equal(im_requests(&g_srv), 0);
}

static void test_echoed_key_is_scrubbed(void **state) {
    (void)state;
    assert_int_equal(im_case(&g_srv, "echo_key"), 0);
    ct_config cfg;
    ct_config_init(&cfg);
    cfg.zone = "FR";
    ct__live *lv = start(&cfg, "ECHOED-SECRET");
    wait_done(lv, 1);
    ct__live_stop(lv);
    char n[16384];
    notices(n, sizeof n);
    assert_non_null(strstr(n, "HTTP 401 unauthorized (key missing or refused) (bad key ***)"));
    assert_null(strstr(n, "ECHOED-SECRET"));
}

/* Waits until the notices hold needle; fails after 10 s. */
static void wait_notice(const char *needle) {
    double end = mono() + 10;
    char n[16384];
    for (;;) {
        notices(n, sizeof n);
        if (strstr(n, needle)) return;
        if (mono() > end) fail_msg("no notice \"%s\" in 10 s; notices were:\n%s", needle, n);
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

/* Issue 10 item 4: keys of 1 and 2 characters and keys made of the
 * replacement's own character, echoed by the server many times over. The old
 * in-place scrubber overflowed the forecast message buffer (1 character: ASan
 * stack-buffer-overflow in the fetch thread) and never ended for `*` or `**`
 * ("***" holds the key again). */
static void test_short_and_star_keys_are_scrubbed(void **state) {
    (void)state;
    const char *keys[] = {"Q", "QZ", "*", "**"};
    for (int k = 0; k < 4; k++) {
        setup(NULL);
        assert_int_equal(im_case(&g_srv, "echo_key_forecast"), 0);
        ct_config cfg;
        ct_config_init(&cfg);
        cfg.zone = "DE";
        ct__live *lv = start(&cfg, keys[k]);
        wait_done(lv, 1);
        ct__intensity_value v;
        assert_int_equal(ct__live_now(lv, ct__unix_s(), &v), 1); /* latest answered */
        assert_true(v.g_per_kwh == 302);
        ct__live_stop(lv);
        char n[16384];
        notices(n, sizeof n);
        const char *want = "Electricity Maps forecast: HTTP 401 unauthorized (key missing or refused) (";
        const char *hit = strstr(n, want);
        if (!hit) fail_msg("key \"%s\": notices were:\n%s", keys[k], n);
        /* the server's text (the key 400 times) comes back as stars, cut at 160 characters */
        size_t stars = strspn(hit + strlen(want), "*");
        if (stars < 3 || stars > 160) fail_msg("key \"%s\": %zu stars in:\n%s", keys[k], stars, n);
        if (keys[k][0] == 'Q') assert_null(strchr(n, 'Q'));
    }
}

/* Issue 10 item 4: the server's error text was cut at 160 characters before
 * the key was scrubbed, so a key echoed across the cut leaked its first
 * characters. Every position from 150 to 170. */
static void test_key_echoed_across_the_cut_never_leaks(void **state) {
    (void)state;
    for (int pos = 150; pos <= 170; pos++) {
        setup(NULL);
        char c[32];
        snprintf(c, sizeof c, "echo_key_at_%d", pos);
        assert_int_equal(im_case(&g_srv, c), 0);
        ct_config cfg;
        ct_config_init(&cfg);
        cfg.zone = "DE";
        ct__live *lv = start(&cfg, "QZXJ0123456789");
        wait_done(lv, 1);
        ct__live_stop(lv);
        char n[16384];
        notices(n, sizeof n);
        if (!strstr(n, "HTTP 401 unauthorized (key missing or refused) (xxxxxxxxxx") || strstr(n, "QZ"))
            fail_msg("key at %d: notices were:\n%s", pos, n);
    }
}

/* Issue 10 item 4: the key is never sent over plain http to another machine;
 * plain http to this machine (the tests' mock) is allowed with one warning. */
static void test_plain_http_override_for_the_key(void **state) {
    (void)state;
    setenv("CT_HTTP_TIMEOUT_MS", "300", 1);
    const char *refused[] = {"http://192.0.2.1:9", "http://127.0.0.1.example.com:9",
                             "http://127.0.0.1@192.0.2.1:9", "HTTP://[2001:db8::1]:9/v3"};
    for (int i = 0; i < 4; i++) {
        setup(NULL);
        setenv("CT_HTTP_TIMEOUT_MS", "300", 1);
        setenv("CT_ELECTRICITYMAPS_URL", refused[i], 1);
        ct_config cfg;
        ct_config_init(&cfg);
        cfg.zone = "DE";
        ct__live *lv = start(&cfg, "KEY-NOT-SENT");
        wait_notice("CT_ELECTRICITYMAPS_URL");
        ct__live_stop(lv);
        char n[16384];
        notices(n, sizeof n);
        if (!strstr(n, "is plain http to another machine: the Electricity Maps key is not sent; use https"))
            fail_msg("%s: notices were:\n%s", refused[i], n);
        assert_null(strstr(n, "KEY-NOT-SENT"));
    }
    unsetenv("CT_HTTP_TIMEOUT_MS");
    setenv("CT_ELECTRICITYMAPS_URL", g_srv.base, 1);

    /* loopback: sent, with one warning however many refreshes */
    setup(NULL);
    ct_config cfg;
    ct_config_init(&cfg);
    cfg.zone = "DE";
    ct__live *lv = start(&cfg, "KEY-LOOPBACK");
    wait_done(lv, 1);
    ct__live_refresh_now(lv);
    wait_done(lv, 2);
    ct__live_stop(lv);
    char n[16384];
    notices(n, sizeof n);
    const char *w = "1:the Electricity Maps key goes over plain http to this machine (CT_ELECTRICITYMAPS_URL=";
    const char *first = strstr(n, w);
    if (!first || strstr(first + 1, w)) fail_msg("want one warning; notices were:\n%s", n);
    assert_null(strstr(n, "KEY-LOOPBACK"));
    char *log = im_get(&g_srv, "/_log");
    assert_non_null(strstr(log, "\"auth\": \"KEY-LOOPBACK\""));
    free(log);
}

static void test_offline_touches_nothing(void **state) {
    (void)state;
    ct_config cfg;
    ct_config_init(&cfg);
    ct__location loc;
    char why[512];
    assert_int_equal(ct__location_resolve(&cfg, &loc, why, sizeof why), 0);
    cfg.offline = 1;
    assert_null(ct__live_start(&cfg, &loc, NULL, 900, collect, NULL, why, sizeof why));
    assert_string_equal(why, "offline");
    cfg.offline = 0;
    setenv("CT_OFFLINE", "1", 1);
    assert_null(ct__live_start(&cfg, &loc, NULL, 900, collect, NULL, why, sizeof why));
    ct_plan_result r;
    cfg.country = "GB";
    assert_int_equal(ct_plan(&cfg, 3600, 0, &r), CT_ENODATA);
    assert_string_equal(ct_last_error_message(), "offline (CT_OFFLINE or --offline): no forecast can be fetched");
    unsetenv("CT_OFFLINE");
    assert_int_equal(im_requests(&g_srv), 0);
}

static void test_ip_geolocation_only_without_location(void **state) {
    (void)state;
    ct_config cfg;
    ct_config_init(&cfg);
    ct__live *lv = start(&cfg, NULL);
    wait_done(lv, 1);
    ct__location loc;
    ct__live_location(lv, &loc);
    assert_string_equal(loc.country, "DK");
    ct__intensity_value v;
    double now = ct__unix_s();
    assert_int_equal(ct__live_now(lv, floor(now / 300) * 300 - 1, &v), 1);
    assert_true(v.g_per_kwh == 80); /* Copenhagen is DK2 */
    ct__live_stop(lv);
    char n[16384];
    notices(n, sizeof n);
    assert_non_null(strstr(n, "0:location: country DK from IP geolocation"));
    char *log = im_get(&g_srv, "/_log");
    assert_non_null(strstr(log, "\"path\": \"/json\""));
    free(log);

    /* geolocation failing: a warning, and nothing else is asked */
    setup(NULL);
    assert_int_equal(im_case(&g_srv, "500"), 0);
    lv = start(&cfg, NULL);
    double end = mono() + 5;
    for (;;) {
        notices(n, sizeof n);
        if (mono() > end || strstr(n, "IP geolocation failed")) break;
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    ct__live_stop(lv);
    notices(n, sizeof n);
    assert_non_null(strstr(n, "no location given and IP geolocation failed (IP geolocation (ipinfo.io): HTTP 500"));
    assert_int_equal(im_requests(&g_srv), 1);
}

static void test_plan_api(void **state) {
    (void)state;
    ct_config cfg;
    ct_config_init(&cfg);
    cfg.country = "GB";
    ct_plan_result r;
    double before = ct__unix_s();
    int rc = ct_plan(&cfg, 6 * 3600, 48 * 3600, &r);
    double after = ct__unix_s();
    if (rc) fail_msg("ct_plan: %s", ct_last_error_message());
    assert_string_equal(ct_last_error_message(), ""); /* success leaves no detail */
    /* national forecast: periods 10..21 (100) from the current half hour */
    double t0 = floor(before / 1800) * 1800;
    assert_true(r.start_unix_s == t0 + 10 * 1800);
    assert_true(r.end_unix_s == r.start_unix_s + 6 * 3600);
    assert_true(fabs(r.mean_g_per_kwh - 100) < 1e-9);
    double dmin = before - t0, dmax = after - t0;
    double lo = ((1800 - dmax) * 263 + 16200.0 * 300 + (3600 + dmax) * 100) / 21600.0;
    double hi = ((1800 - dmin) * 263 + 16200.0 * 300 + (3600 + dmin) * 100) / 21600.0;
    assert_true(r.now_g_per_kwh >= lo - 1e-9 && r.now_g_per_kwh <= hi + 1e-9);
    assert_true(fabs(r.savings_percent - 100 * (r.now_g_per_kwh - 100) / r.now_g_per_kwh) < 1e-9);
    assert_non_null(strstr(r.source, "UK Carbon Intensity API forecast, national, fetched "));

    /* must start within the next hour */
    /* (the best is then the latest start allowed: its window holds the most 100s) */
    before = ct__unix_s();
    assert_int_equal(ct_plan(&cfg, 6 * 3600, 3600, &r), 0);
    after = ct__unix_s();
    assert_true(r.start_unix_s >= before + 3600 && r.start_unix_s <= after + 3600);

    /* no forecast: says so */
    assert_int_equal(im_case(&g_srv, "no_forecast"), 0);
    assert_int_equal(ct_plan(&cfg, 6 * 3600, 0, &r), CT_ENODATA);
    assert_string_equal(ct_last_error_message(), "UK Carbon Intensity API has no forecast for national: UK Carbon Intensity API "
                             "forecast: HTTP 500 server error (forecast down)");
    assert_int_equal(im_case(&g_srv, "ok"), 0);
    /* longer than the horizon */
    assert_int_equal(ct_plan(&cfg, 50 * 3600, 0, &r), CT_ENODATA);
    assert_non_null(strstr(ct_last_error_message(), "less than the 50.0 h asked for"));
    /* no key outside GB/DK */
    cfg.country = "DE";
    assert_int_equal(ct_plan(&cfg, 3600, 0, &r), CT_ENODATA);
    assert_string_equal(ct_last_error_message(), "no forecast: no live service without an Electricity Maps key outside GB and DK for "
                             "country DE");
    assert_int_equal(ct_plan(&cfg, -1, 0, &r), CT_EINVAL);
    assert_string_equal(ct_last_error_message(), "the duration must be positive and the search window not negative");
    assert_int_equal(ct_plan(NULL, 1, 0, &r), CT_EINVAL);
    assert_string_equal(ct_last_error_message(), "ct_plan: NULL argument");
    /* the key is not sent over plain http to another machine */
    cfg.electricitymaps_key = "KEY-FOR-PLAN";
    setenv("CT_ELECTRICITYMAPS_URL", "http://192.0.2.1:9", 1);
    im_reset(&g_srv);
    assert_int_equal(ct_plan(&cfg, 3600, 0, &r), CT_EINVAL);
    assert_string_equal(ct_last_error_message(),
                        "no forecast: CT_ELECTRICITYMAPS_URL (host 192.0.2.1) is plain http to another machine: the "
                        "Electricity Maps key is not sent; use https");
    setenv("CT_ELECTRICITYMAPS_URL", g_srv.base, 1);
    /* to this machine it goes, and an Electricity Maps forecast plans */
    assert_int_equal(ct_plan(&cfg, 3 * 3600, 0, &r), 0);
    assert_true(r.mean_g_per_kwh == 150); /* hours 3..8 */
    char *log = im_get(&g_srv, "/_log");
    assert_non_null(strstr(log, "\"auth\": \"KEY-FOR-PLAN\""));
    free(log);
}

static void test_plan_cli(void **state) {
    (void)state;
    const char *cli = ts_env("CT_CLI");
    char *out = NULL, *err = NULL;
    char *a1[] = {(char *)cli, "plan", "--duration", "6h", "--country", "GB", "--json", NULL};
    double before = ct__unix_s();
    int rc = ts_run(a1, NULL, &out, &err);
    if (rc != 0) fail_msg("exit %d, stderr: %s", rc, err ? err : "");
    char iso[32], iso2[32], expect[128];
    double t0 = floor(before / 1800) * 1800;
    ct__format_iso8601(t0 + 10 * 1800, iso, sizeof iso);
    ct__format_iso8601(t0 + 10 * 1800 + 6 * 3600, iso2, sizeof iso2);
    snprintf(expect, sizeof expect, "{\"start\":\"%s\",\"end\":\"%s\",\"duration_s\":21600,\"mean_gco2_per_kwh\":100.000,", iso, iso2);
    assert_true(strncmp(out, expect, strlen(expect)) == 0);
    assert_non_null(strstr(out, "\"now_gco2_per_kwh\":"));
    assert_non_null(strstr(out, "\"savings_percent\":"));
    free(out);
    free(err);

    char *a2[] = {(char *)cli, "plan", "--duration", "90m", "--postcode", "RG10", NULL};
    assert_int_equal(ts_run(a2, NULL, &out, &err), 0);
    assert_non_null(strstr(out, "Best start:   "));
    assert_non_null(strstr(out, "Mean carbon intensity over 1:30:00: 50.0 gCO2eq/kWh"));
    assert_non_null(strstr(out, "Saving against starting now: "));
    assert_non_null(strstr(out, "Source: UK Carbon Intensity API forecast, postcode RG10, fetched "));
    free(out);
    free(err);

    struct {
        const char *args[8];
        int code;
        const char *err;
    } bad[] = {
        {{"plan", "--duration", "6h", "--country", "GB", "--offline"}, 1,
         "carbontracker plan: offline (CT_OFFLINE or --offline): no forecast can be fetched\n"},
        {{"plan", "--duration", "6x"}, 2,
         "carbontracker plan: --duration needs a duration such as 90m, 6h, 2d or 3600 (got \"6x\")\n"},
        {{"plan", "--duration", "-1h"}, 2,
         "carbontracker plan: --duration needs a duration such as 90m, 6h, 2d or 3600 (got \"-1h\")\n"},
        {{"plan", "--country", "GB"}, 2, "carbontracker plan: --duration is required, e.g. --duration 6h\n"},
        {{"plan", "--duration"}, 2, "carbontracker plan: --duration needs a value\n"},
        {{"plan", "--duration", "1h", "--cloud", "gcp"}, 2,
         "carbontracker plan: --cloud needs PROVIDER:REGION, e.g. gcp:europe-west1 (got \"gcp\")\n"},
        {{"plan", "--duration", "1h", "--bogus"}, 2,
         "carbontracker plan: unknown option \"--bogus\" (see carbontracker plan --help)\n"},
        {{"plan", "--duration", "1h", "--country", "DE"}, 1,
         "carbontracker plan: no forecast: no live service without an Electricity Maps key outside GB and DK for "
         "country DE\n"},
        {{"plan", "--duration", "3d", "--country", "GB"}, 1,
         "carbontracker plan: UK Carbon Intensity API forecast for national: the forecast covers "},
        {{"plan", "--duration", "1h", "--postcode", "nowhere"}, 2,
         "carbontracker plan: postcode must be a UK outward postcode such as \"RG10\" or \"SW1\" (got \"nowhere\")\n"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *argv[10] = {(char *)cli};
        for (int k = 0; bad[i].args[k]; k++) argv[k + 1] = (char *)bad[i].args[k];
        rc = ts_run(argv, NULL, &out, &err);
        if (rc != bad[i].code || strncmp(err, bad[i].err, strlen(bad[i].err)) != 0)
            fail_msg("case %zu: exit %d, stderr \"%s\"", i, rc, err);
        free(out);
        free(err);
    }
}

static void sleep_s(double s) {
    struct timespec ts = {(time_t)s, (long)((s - floor(s)) * 1e9)};
    nanosleep(&ts, NULL);
}

/* The UK mock's national series (see the server): the current half hour 263,
 * then 300 except periods 10..21 (100), 96 periods. Mean over [a, b]. */
static double uk_mean(double t0, double a, double b) {
    ct__iseries s = {0};
    for (int k = 0; k < 96; k++)
        ct__iseries_add(&s, t0 + 1800.0 * k, t0 + 1800.0 * (k + 1), k == 0 ? 263 : (k >= 10 && k <= 21) ? 100 : 300);
    double cov, m = ct__iseries_mean(&s, a, b, &cov);
    ct__iseries_free(&s);
    return m;
}

/* Through the public API: the actual CO2eq uses the live value of each
 * interval, the prediction the forecast over the predicted remaining time. */
static void test_tracker_uses_live_and_forecast(void **state) {
    (void)state;
    ct_config cfg;
    ct_config_init(&cfg);
    cfg.epochs = 40000; /* 0.3 s epochs: the prediction spans about 3.3 h of forecast */
    cfg.epochs_before_pred = 1;
    cfg.monitor_epochs = 2;
    cfg.update_interval = 0.05;
    cfg.verbose = 0;
    cfg.pue = 1.0;
    cfg.sim_cpu = "test cpu";
    cfg.sim_cpu_tdp = 100;
    cfg.sim_cpu_util = 1.0;
    cfg.components = "cpu";
    cfg.country = "GB";
    char logdir[] = "/tmp/ct_live_logs_XXXXXX";
    assert_non_null(mkdtemp(logdir));
    cfg.log_dir = logdir;
    ct_tracker *t = NULL;
    double before = ct__unix_s();
    assert_int_equal(ct_tracker_new(&cfg, &t), 0);
    sleep_s(0.5); /* the mock answers in milliseconds */
    assert_int_equal(ct_epoch_start(t), 0);
    sleep_s(0.3);
    assert_int_equal(ct_epoch_end(t), 0);
    ct_result a, p;
    assert_int_equal(ct_get_actual(t, &a), 0);
    assert_int_equal(ct_get_predicted(t, &p), 0);
    double after = ct__unix_s();
    double t0 = floor(before / 1800) * 1800;
    if (floor(after / 1800) * 1800 != t0) {
        ct_tracker_free(t);
        skip(); /* crossed a half-hour boundary: the mock's "current" period changed */
    }
    assert_true(a.energy_kwh > 0);
    assert_true(fabs(a.co2eq_g / a.energy_kwh - 263) < 1e-6);
    assert_true(fabs(a.intensity_g_per_kwh - 263) < 1e-6);
    assert_int_equal(a.intensity_kind, CT_INTENSITY_LIVE);
    char iso[32], expect[200];
    ct__format_iso8601(t0, iso, sizeof iso);
    snprintf(expect, sizeof expect, "UK Carbon Intensity API, national, %s", iso);
    assert_string_equal(a.intensity_source, expect);

    assert_int_equal(p.intensity_kind, CT_INTENSITY_FORECAST);
    assert_non_null(strstr(p.intensity_source, "UK Carbon Intensity API forecast, national, mean "));
    double rest_kwh = p.energy_kwh - a.energy_kwh, rest_g = p.co2eq_g - a.co2eq_g;
    double remaining_s = p.duration_s - a.duration_s;
    double lo = uk_mean(t0, after, after + remaining_s), hi = uk_mean(t0, before, before + remaining_s);
    if (lo > hi) {
        double x = lo;
        lo = hi;
        hi = x;
    }
    double got = rest_g / rest_kwh;
    if (!(got >= lo - 0.5 && got <= hi + 0.5))
        fail_msg("forecast mean for the rest %.3f not within [%.3f, %.3f]", got, lo, hi);
    /* and it is not simply the current value */
    assert_true(fabs(got - 263) > 5);
    /* The live value's arrival is in the JSON Lines log, after the header's static value. */
    char *jsonl = strdup(ct_jsonl_path(t));
    ct_tracker_free(t);
    FILE *jf = fopen(jsonl, "r");
    assert_non_null(jf);
    char line[8192];
    int header_static = 0, live_event = 0;
    while (fgets(line, sizeof line, jf)) {
        if (strstr(line, "\"event\":\"header\"") && strstr(line, "\"kind\":\"static\"")) header_static = 1;
        if (strstr(line, "\"event\":\"intensity\"") && strstr(line, "\"g_per_kwh\":263,") &&
            strstr(line, "\"kind\":\"live\"") && strstr(line, expect))
            live_event = 1;
    }
    fclose(jf);
    assert_true(header_static);
    assert_true(live_event);
    unlink(jsonl);
    free(jsonl);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", logdir);
    assert_int_equal(system(cmd), 0);
}

/* A service that never answers costs the run nothing but its fallback. */
static void test_tracker_with_hanging_service(void **state) {
    (void)state;
    assert_int_equal(im_case(&g_srv, "hang"), 0);
    ct_config cfg;
    ct_config_init(&cfg);
    cfg.epochs = 2;
    cfg.update_interval = 0.05;
    cfg.verbose = 0;
    cfg.sim_cpu = "test cpu";
    cfg.sim_cpu_tdp = 100;
    cfg.components = "cpu";
    cfg.country = "DK";
    double t0 = mono();
    ct_tracker *t = NULL;
    assert_int_equal(ct_tracker_new(&cfg, &t), 0);
    assert_int_equal(ct_epoch_start(t), 0);
    sleep_s(0.1);
    assert_int_equal(ct_epoch_end(t), 0);
    ct_result a;
    assert_int_equal(ct_get_actual(t, &a), 0);
    assert_int_equal(a.intensity_kind, CT_INTENSITY_STATIC);
    assert_non_null(strstr(a.intensity_source, "(DK), yearly average "));
    assert_non_null(strstr(a.intensity_source, "(no live value yet)"));
    ct_tracker_free(t); /* abandons the request in flight */
    assert_true(mono() - t0 < 2.0);
}

/* No location: the country found by IP geolocation picks the static value
 * (France has no free service and no key is set). */
static void test_tracker_static_from_ip_geolocation(void **state) {
    (void)state;
    assert_int_equal(im_case(&g_srv, "ip_fr"), 0);
    ct_config cfg;
    ct_config_init(&cfg);
    cfg.epochs = 2;
    cfg.update_interval = 0.05;
    cfg.verbose = 0;
    cfg.sim_cpu = "test cpu";
    cfg.sim_cpu_tdp = 100;
    cfg.components = "cpu";
    ct_tracker *t = NULL;
    assert_int_equal(ct_tracker_new(&cfg, &t), 0);
    sleep_s(0.5);
    assert_int_equal(ct_epoch_start(t), 0);
    sleep_s(0.2);
    assert_int_equal(ct_epoch_end(t), 0);
    ct_result a;
    assert_int_equal(ct_get_actual(t, &a), 0);
    assert_int_equal(a.intensity_kind, CT_INTENSITY_STATIC);
    assert_non_null(strstr(a.intensity_source, "(FR, from IP geolocation), yearly average "));
    double g;
    int year;
    char name[96];
    assert_int_equal(ct__country_intensity("FR", &g, &year, name, sizeof name), 0);
    assert_true(fabs(a.intensity_g_per_kwh - g) < 1e-9);
    ct_tracker_free(t);
    char *log = im_get(&g_srv, "/_log");
    assert_non_null(strstr(log, "\"path\": \"/json\""));
    assert_null(strstr(log, "/carbon-intensity/")); /* no key: Electricity Maps is not asked */
    free(log);
}

static void ctx_notice(void *user, int level, const char *msg) { collect(user, level, msg); }

/* The intensity object itself: fixed means no network; live values, the
 * forecast, and the labelled static value before and after them. */
static void test_intensity_object_order_and_labels(void **state) {
    (void)state;
    ct_config cfg;
    ct_config_init(&cfg);
    cfg.country = "GB";
    cfg.carbon_intensity = 42;
    ct__source_ctx ctx = {&cfg, ctx_notice, NULL};
    ct_intensity *in = NULL;
    char why[512];
    assert_int_equal(ct__intensity_open(&cfg, &ctx, &in, why, sizeof why), 0);
    ct__intensity_value v;
    double now = ct__unix_s();
    ct__intensity_now(in, now, &v);
    assert_true(v.g_per_kwh == 42 && v.kind == CT_INTENSITY_FIXED);
    ct__intensity_over(in, now, now + 3600, &v);
    assert_true(v.g_per_kwh == 42 && v.kind == CT_INTENSITY_FIXED);
    sleep_s(0.2);
    ct__intensity_close(in);
    assert_int_equal(im_requests(&g_srv), 0); /* a fixed value asks nobody */

    cfg.carbon_intensity = -1;
    assert_int_equal(ct__intensity_open(&cfg, &ctx, &in, why, sizeof why), 0);
    double end = mono() + 5;
    do {
        ct__intensity_now(in, ct__unix_s(), &v);
        if (v.kind == CT_INTENSITY_STATIC) {
            assert_non_null(strstr(v.source, "United Kingdom (GB), yearly average "));
            assert_non_null(strstr(v.source, " (no live value yet)"));
            sleep_s(0.01);
        }
    } while (v.kind != CT_INTENSITY_LIVE && mono() < end);
    assert_int_equal(v.kind, CT_INTENSITY_LIVE);
    assert_true(v.g_per_kwh == 263);
    now = ct__unix_s();
    ct__intensity_over(in, now, now + 6 * 3600, &v);
    assert_int_equal(v.kind, CT_INTENSITY_FORECAST);
    /* ten days on, nothing covers that time: the static value, saying why */
    ct__intensity_now(in, now + 10 * 86400, &v);
    assert_int_equal(v.kind, CT_INTENSITY_STATIC);
    assert_non_null(strstr(v.source, " (live value out of date)"));
    /* notices reach the tracker only through tick */
    char n[16384];
    notices(n, sizeof n);
    assert_null(strstr(n, "live carbon intensity from"));
    ct__intensity_tick(in, now);
    notices(n, sizeof n);
    assert_non_null(strstr(n, "0:live carbon intensity from UK Carbon Intensity API (country GB), refreshed every 900 s"));
    ct__intensity_close(in);

    /* offline: the static value, no label, no request */
    im_reset(&g_srv);
    cfg.offline = 1;
    assert_int_equal(ct__intensity_open(&cfg, &ctx, &in, why, sizeof why), 0);
    ct__intensity_now(in, now, &v);
    assert_int_equal(v.kind, CT_INTENSITY_STATIC);
    assert_null(strstr(v.source, "live value"));
    sleep_s(0.1);
    ct__intensity_close(in);
    assert_int_equal(im_requests(&g_srv), 0);

    /* a bad location option is an error of open, with the option named */
    cfg.offline = 0;
    cfg.postcode = "!!";
    assert_int_equal(ct__intensity_open(&cfg, &ctx, &in, why, sizeof why), CT_EINVAL);
    assert_string_equal(why, "postcode must be a UK outward postcode such as \"RG10\" or \"SW1\" (got \"!!\")");
    assert_null(in);
}

/* Waits until the intensity object has its first live value. */
static void wait_live(ct_intensity *in) {
    double end = mono() + 10;
    ct__intensity_value v;
    do {
        ct__intensity_now(in, ct__unix_s(), &v);
        if (v.kind != CT_INTENSITY_LIVE) sleep_s(0.01);
    } while (v.kind != CT_INTENSITY_LIVE && mono() < end);
    assert_int_equal(v.kind, CT_INTENSITY_LIVE);
}

/* Issue 12 item 5: beyond the forecast's horizon the rest of a window is
 * priced at the current value (the mean of the covered part stood in for it
 * before), and a predicted power profile is weighted by its energy. UK mock:
 * the current half hour 263, then 300 except periods 10..21 (100), 96 periods. */
static void test_intensity_over_horizon_and_profile(void **state) {
    (void)state;
    ct_config cfg;
    ct_config_init(&cfg);
    cfg.country = "GB";
    ct__source_ctx ctx = {&cfg, ctx_notice, NULL};
    ct_intensity *in = NULL;
    char why[512];
    assert_int_equal(ct__intensity_open(&cfg, &ctx, &in, why, sizeof why), 0);
    wait_live(in);
    double before = ct__unix_s();
    double t0 = floor(before / 1800) * 1800;
    /* 96 h at constant power from now: 48 h of service values, the rest at 263 */
    ct__intensity_value v;
    double now = ct__unix_s();
    ct__intensity_over(in, now, now + 96 * 3600.0, &v);
    double horizon = t0 + 48 * 3600.0;
    double expect = (uk_mean(t0, now, horizon) * (horizon - now) + 263.0 * (now + 96 * 3600.0 - horizon)) /
                    (96 * 3600.0);
    if (fabs(v.g_per_kwh - expect) > 1e-6) fail_msg("over 96 h: %.6f, want %.6f (%s)", v.g_per_kwh, expect, v.source);
    assert_int_equal(v.kind, CT_INTENSITY_FORECAST);
    assert_non_null(strstr(v.source, "% forecast, the rest at the current 263)"));

    /* a profile: 6 h at 100 with power 3, 6 h at 300 with power 1, 2 h past the horizon with power 2 */
    double t[] = {t0 + 10 * 1800.0, t0 + 22 * 1800.0, t0 + 34 * 1800.0, t0 + 96 * 1800.0, t0 + 100 * 1800.0};
    double w[] = {3, 1, 0, 2};
    ct_intensity_mean m;
    ct__intensity_over_profile(in, t, w, 4, &m);
    double e = 3 * 6 + 1 * 6 + 2 * 2; /* W h */
    assert_true(fabs(m.value.g_per_kwh - (18 * 100.0 + 6 * 300.0 + 4 * 263.0) / e) < 1e-6);
    assert_true(fabs(m.forecast_share - 24 / e) < 1e-9);
    assert_true(fabs(m.covered_share - 24 / e) < 1e-9);
    assert_true(m.current_g_per_kwh == 263);
    assert_int_equal(m.value.kind, CT_INTENSITY_FORECAST);
    /* only the present (measured) half hour: the current value's kind */
    double now2 = ct__unix_s();
    double t2[] = {now2, t0 + 1800.0};
    double w2[] = {5};
    ct__intensity_over_profile(in, t2, w2, t2[1] > now2 ? 1 : 0, &m);
    assert_true(m.value.g_per_kwh == 263);
    assert_int_equal(m.value.kind, CT_INTENSITY_LIVE);
    assert_true(m.forecast_share == 0);
    /* no energy, bad numbers: the current value, nothing invented */
    double w3[] = {0};
    ct__intensity_over_profile(in, t2, w3, 1, &m);
    assert_true(m.value.g_per_kwh == 263 && m.value.kind == CT_INTENSITY_LIVE);
    double w4[] = {NAN};
    ct__intensity_over_profile(in, t2, w4, 1, &m);
    assert_true(m.value.g_per_kwh == 263 && m.value.kind == CT_INTENSITY_LIVE);
    ct__intensity_close(in);
    if (floor(ct__unix_s() / 1800) * 1800 != t0) skip(); /* crossed a half hour: the mock's "current" moved */

    /* fixed: the fixed value, whatever the profile */
    cfg.carbon_intensity = 42;
    assert_int_equal(ct__intensity_open(&cfg, &ctx, &in, why, sizeof why), 0);
    ct__intensity_over_profile(in, t, w, 4, &m);
    assert_true(m.value.g_per_kwh == 42 && m.value.kind == CT_INTENSITY_FIXED && m.forecast_share == 0);
    ct__intensity_close(in);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_without_libcurl_at_run_time, setup),   /* first two: before any request */
        cmocka_unit_test_setup(test_libcurl_loaded_only_when_used, setup),
        cmocka_unit_test_setup(test_ukgrid_national_now_and_forecast, setup),
        cmocka_unit_test_setup(test_ukgrid_regional_list_and_object, setup),
        cmocka_unit_test_setup(test_energidata_areas, setup),
        cmocka_unit_test_setup(test_electricitymaps_key_and_forecast, setup),
        cmocka_unit_test_setup(test_electricitymaps_forecast_refused, setup),
        cmocka_unit_test_setup(test_bad_cases_fall_back, setup),
        cmocka_unit_test_setup(test_hanging_server_times_out_and_stop_is_quick, setup),
        cmocka_unit_test_setup(test_unreachable_and_non_http_urls, setup),
        cmocka_unit_test_setup(test_echoed_key_is_scrubbed, setup),
        cmocka_unit_test_setup(test_short_and_star_keys_are_scrubbed, setup),
        cmocka_unit_test_setup(test_key_echoed_across_the_cut_never_leaks, setup),
        cmocka_unit_test_setup(test_plain_http_override_for_the_key, setup),
        cmocka_unit_test_setup(test_offline_touches_nothing, setup),
        cmocka_unit_test_setup(test_ip_geolocation_only_without_location, setup),
        cmocka_unit_test_setup(test_plan_api, setup),
        cmocka_unit_test_setup(test_plan_cli, setup),
        cmocka_unit_test_setup(test_tracker_uses_live_and_forecast, setup),
        cmocka_unit_test_setup(test_tracker_with_hanging_service, setup),
        cmocka_unit_test_setup(test_tracker_static_from_ip_geolocation, setup),
        cmocka_unit_test_setup(test_intensity_object_order_and_labels, setup),
        cmocka_unit_test_setup(test_intensity_over_horizon_and_profile, setup),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
