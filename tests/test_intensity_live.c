/* Live providers against tests/mock_intensity_server.py on 127.0.0.1 (issue
 * 4): the documented shapes give known values; every bad case (HTTP errors,
 * garbage, truncated, nulls, missing, empty, too big, a server that never
 * answers) ends in "no live value" plus a warning, never a crash or a hang;
 * offline means no request at all; IP geolocation only without a location.
 * The key and the network layer: test_intensity_network.c; the planner and
 * the tracker end to end: test_intensity_tracker.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "intensity/live.h"
#include "intensity_live_support.h"
#include "test_support.h"

static void test_ukgrid_national_now_and_forecast(void **state) {
    (void)state;
    ct_config cfg;
    ct_config_init(&cfg);
    cfg.country = "GB";
    double now = ct__unix_s();
    ct__live *lv = il_start(&cfg, NULL);
    il_wait_done(lv, 1);
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
    char *l = im_get(&il_srv, "/_log");
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
        assert_int_equal(im_case(&il_srv, cases[c]), 0);
        ct_config cfg;
        ct_config_init(&cfg);
        cfg.postcode = "RG10 9XY";
        double now = ct__unix_s();
        ct__live *lv = il_start(&cfg, NULL);
        il_wait_done(lv, 1);
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
    char *log = im_get(&il_srv, "/_log");
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
        ct__live *lv = il_start(&cfg, NULL);
        il_wait_done(lv, 1);
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
    char *log = im_get(&il_srv, "/_log");
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
    ct__live *lv = il_start(&cfg, "SECRET-KEY-42");
    il_wait_done(lv, 1);
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
    char *log = im_get(&il_srv, "/_log");
    assert_non_null(strstr(log, "\"path\": \"/carbon-intensity/latest?zone=DE\", \"auth\": \"SECRET-KEY-42\""));
    assert_non_null(strstr(log, "/carbon-intensity/history?zone=DE"));
    assert_non_null(strstr(log, "/carbon-intensity/forecast?zone=DE"));
    free(log);
    char n[16384];
    il_notices(n, sizeof n);
    assert_null(strstr(n, "SECRET-KEY-42"));
}

static void test_electricitymaps_forecast_refused(void **state) {
    (void)state;
    assert_int_equal(im_case(&il_srv, "forecast_denied"), 0);
    ct_config cfg;
    ct_config_init(&cfg);
    cfg.country = "DE";
    double now = ct__unix_s();
    ct__live *lv = il_start(&cfg, "k3y");
    il_wait_done(lv, 1);
    ct__intensity_value v;
    /* no forecast: the prediction gets the live value */
    assert_int_equal(ct__live_over(lv, now, now + 6 * 3600, &v), 1);
    assert_int_equal(v.kind, CT_INTENSITY_LIVE);
    assert_true(v.g_per_kwh == 302);
    char n[16384];
    il_notices(n, sizeof n);
    assert_non_null(strstr(n, "Electricity Maps forecast: HTTP 403 forbidden (not in this plan or key) (forecast is "
                              "not in your plan); the prediction uses the current value"));
    /* the next refresh does not ask for the forecast again */
    im_reset(&il_srv);
    ct__live_refresh_now(lv);
    il_wait_done(lv, 2);
    ct__live_stop(lv);
    char *log = im_get(&il_srv, "/_log");
    assert_non_null(strstr(log, "/carbon-intensity/latest?zone=DE"));
    assert_null(strstr(log, "/forecast"));
    assert_null(strstr(log, "/history")); /* history only on the first refresh */
    free(log);
}

/* Every bad case for every service: no live value, a warning, no crash. */
static void test_bad_cases_fall_back(void **state) {
    (void)state;
    const char *cases[] = {"401", "403", "429", "500", "garbage", "truncated", "nulls", "missing", "empty", "big"};
    const char *expect[] = {"HTTP 401",
                            "HTTP 403",
                            "HTTP 429 rate limited",
                            "HTTP 500 server error",
                            "malformed JSON",
                            "malformed JSON",
                            "",
                            "",
                            "",
                            "larger than 4194304 bytes"};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        for (int p = 0; p < 4; p++) {
            il_setup(NULL);
            assert_int_equal(im_case(&il_srv, cases[c]), 0);
            ct_config cfg;
            ct_config_init(&cfg);
            const char *key = NULL;
            if (p == 0) cfg.country = "GB";
            if (p == 1) cfg.postcode = "SW1";
            if (p == 2) cfg.country = "DK";
            if (p == 3) cfg.zone = "DE", key = "KEY-NEVER-SHOWN";
            ct__live *lv = il_start(&cfg, key);
            il_wait_done(lv, 1);
            ct__intensity_value v;
            double now = ct__unix_s();
            if (ct__live_now(lv, now, &v) || ct__live_over(lv, now, now + 3600, &v))
                fail_msg("case %s provider %d gave a live value %g (%s)", cases[c], p, v.g_per_kwh, v.source);
            long done, ok;
            ct__live_counts(lv, &done, &ok);
            assert_int_equal(ok, 0);
            ct__live_stop(lv);
            char n[16384];
            il_notices(n, sizeof n);
            if (!strstr(n, "1:live carbon intensity: ") || !strstr(n, expect[c]) ||
                !strstr(n, "using the static table until it answers"))
                fail_msg("case %s provider %d: notices were:\n%s", cases[c], p, n);
            assert_null(strstr(n, "KEY-NEVER-SHOWN"));
        }
    }
}

static void test_hanging_server_times_out_and_stop_is_quick(void **state) {
    (void)state;
    assert_int_equal(im_case(&il_srv, "hang"), 0);
    setenv("CT_HTTP_TIMEOUT_MS", "300", 1);
    ct_config cfg;
    ct_config_init(&cfg);
    cfg.country = "GB";
    double t0 = il_mono();
    ct__live *lv = il_start(&cfg, NULL);
    /* Starting never waits for the network: the server never answers, so a
     * start that waited would return with the request already timed out. */
    long done = -1;
    ct__live_counts(lv, &done, NULL);
    assert_int_equal(done, 0);
    il_wait_done(lv, 1);
    double took = il_mono() - t0;
    assert_true(took < 5.0); /* 300 ms: not the default 8 s */
    ct__intensity_value v;
    assert_int_equal(ct__live_now(lv, ct__unix_s(), &v), 0);
    ct__live_stop(lv);
    char n[16384];
    il_notices(n, sizeof n);
    assert_non_null(strstr(n, "UK Carbon Intensity API: no answer within 300 ms"));

    /* with the default 8 s timeout, stopping abandons the request at once */
    unsetenv("CT_HTTP_TIMEOUT_MS");
    lv = il_start(&cfg, NULL);
    struct timespec ts = {0, 200 * 1000 * 1000};
    nanosleep(&ts, NULL); /* the request is now in flight */
    t0 = il_mono();
    ct__live_stop(lv);
    assert_true(il_mono() - t0 < 4.0); /* abandoned: not the 8 s the request may take */
}

/* A base URL that refuses connections, or is not http(s), fails fast with a reason. */
static void test_unreachable_and_non_http_urls(void **state) {
    (void)state;
    const char *urls[] = {"http://127.0.0.1:1", "file:///etc", "ftp://127.0.0.1:1"};
    const char *expect[] = {"UK Carbon Intensity API: Failed to connect to 127.0.0.1 port 1",
                            "UK Carbon Intensity API: Protocol \"file\" not supported",
                            "UK Carbon Intensity API: Protocol \"ftp\" not supported"};
    for (int i = 0; i < 3; i++) {
        il_setup(NULL);
        setenv("CT_UKGRID_URL", urls[i], 1);
        ct_config cfg;
        ct_config_init(&cfg);
        cfg.country = "GB";
        double t0 = il_mono();
        ct__live *lv = il_start(&cfg, NULL);
        il_wait_done(lv, 1);
        assert_true(il_mono() - t0 < 2.0);
        ct__intensity_value v;
        assert_int_equal(ct__live_now(lv, ct__unix_s(), &v), 0);
        ct__live_stop(lv);
        char n[16384];
        il_notices(n, sizeof n);
        if (!strstr(n, expect[i]) || !strstr(n, "using the static table until it answers"))
            fail_msg("%s: notices were:\n%s", urls[i], n);
    }
    setenv("CT_UKGRID_URL", il_srv.base, 1);
    assert_int_equal(im_requests(&il_srv), 0);
}

static void test_offline_touches_nothing(void **state) {
    (void)state;
    ct_config cfg;
    ct_config_init(&cfg);
    ct__location loc;
    char why[512];
    assert_int_equal(ct__location_resolve(&cfg, &loc, why, sizeof why), 0);
    cfg.offline = 1;
    assert_null(ct__live_start(&cfg, &loc, NULL, 900, il_collect, NULL, why, sizeof why));
    assert_string_equal(why, "offline");
    cfg.offline = 0;
    setenv("CT_OFFLINE", "1", 1);
    assert_null(ct__live_start(&cfg, &loc, NULL, 900, il_collect, NULL, why, sizeof why));
    ct_plan_result r;
    cfg.country = "GB";
    assert_int_equal(ct_plan(&cfg, 3600, 0, &r), CT_ENODATA);
    assert_string_equal(ct_last_error_message(), "offline (CT_OFFLINE or --offline): no forecast can be fetched");
    unsetenv("CT_OFFLINE");
    assert_int_equal(im_requests(&il_srv), 0);
}

static void test_ip_geolocation_only_without_location(void **state) {
    (void)state;
    ct_config cfg;
    ct_config_init(&cfg);
    ct__live *lv = il_start(&cfg, NULL);
    il_wait_done(lv, 1);
    ct__location loc;
    ct__live_location(lv, &loc);
    assert_string_equal(loc.country, "DK");
    ct__intensity_value v;
    double now = ct__unix_s();
    assert_int_equal(ct__live_now(lv, floor(now / 300) * 300 - 1, &v), 1);
    assert_true(v.g_per_kwh == 80); /* Copenhagen is DK2 */
    ct__live_stop(lv);
    char n[16384];
    il_notices(n, sizeof n);
    assert_non_null(strstr(n, "0:location: country DK from IP geolocation"));
    char *log = im_get(&il_srv, "/_log");
    assert_non_null(strstr(log, "\"path\": \"/json\""));
    free(log);

    /* geolocation failing: a warning, and nothing else is asked */
    il_setup(NULL);
    assert_int_equal(im_case(&il_srv, "500"), 0);
    lv = il_start(&cfg, NULL);
    double end = il_mono() + 5;
    for (;;) {
        il_notices(n, sizeof n);
        if (il_mono() > end || strstr(n, "IP geolocation failed")) break;
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    ct__live_stop(lv);
    il_notices(n, sizeof n);
    assert_non_null(strstr(n, "no location given and IP geolocation failed (IP geolocation (ipinfo.io): HTTP 500"));
    assert_int_equal(im_requests(&il_srv), 1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_ukgrid_national_now_and_forecast, il_setup),
        cmocka_unit_test_setup(test_ukgrid_regional_list_and_object, il_setup),
        cmocka_unit_test_setup(test_energidata_areas, il_setup),
        cmocka_unit_test_setup(test_electricitymaps_key_and_forecast, il_setup),
        cmocka_unit_test_setup(test_electricitymaps_forecast_refused, il_setup),
        cmocka_unit_test_setup(test_bad_cases_fall_back, il_setup),
        cmocka_unit_test_setup(test_hanging_server_times_out_and_stop_is_quick, il_setup),
        cmocka_unit_test_setup(test_unreachable_and_non_http_urls, il_setup),
        cmocka_unit_test_setup(test_offline_touches_nothing, il_setup),
        cmocka_unit_test_setup(test_ip_geolocation_only_without_location, il_setup),
    };
    return cmocka_run_group_tests(tests, il_group_setup, il_group_teardown);
}
