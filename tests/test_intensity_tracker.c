/* The planner (ct_plan, `carbontracker plan`) and the tracker with live
 * intensity end to end, against tests/mock_intensity_server.py on 127.0.0.1:
 * the actual CO2eq uses the live value of each interval, the prediction the
 * forecast over the predicted remaining time (energy-weighted over a power
 * profile, the rest at the current value); a service that never answers costs
 * nothing but its fallback. */
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
    assert_int_equal(im_case(&il_srv, "no_forecast"), 0);
    assert_int_equal(ct_plan(&cfg, 6 * 3600, 0, &r), CT_ENODATA);
    assert_string_equal(ct_last_error_message(),
                        "UK Carbon Intensity API has no forecast for national: UK Carbon Intensity API "
                        "forecast: HTTP 500 server error (forecast down)");
    assert_int_equal(im_case(&il_srv, "ok"), 0);
    /* longer than the horizon */
    assert_int_equal(ct_plan(&cfg, 50 * 3600, 0, &r), CT_ENODATA);
    assert_non_null(strstr(ct_last_error_message(), "less than the 50.0 h asked for"));
    /* no key outside GB/DK */
    cfg.country = "DE";
    assert_int_equal(ct_plan(&cfg, 3600, 0, &r), CT_ENODATA);
    assert_string_equal(ct_last_error_message(),
                        "no forecast: no live service without an Electricity Maps key outside GB and DK for "
                        "country DE");
    assert_int_equal(ct_plan(&cfg, -1, 0, &r), CT_EINVAL);
    assert_string_equal(ct_last_error_message(), "the duration must be positive and the search window not negative");
    assert_int_equal(ct_plan(NULL, 1, 0, &r), CT_EINVAL);
    assert_string_equal(ct_last_error_message(), "ct_plan: NULL argument");
    /* the key is not sent over plain http to another machine */
    cfg.electricitymaps_key = "KEY-FOR-PLAN";
    setenv("CT_ELECTRICITYMAPS_URL", "http://192.0.2.1:9", 1);
    im_reset(&il_srv);
    assert_int_equal(ct_plan(&cfg, 3600, 0, &r), CT_EINVAL);
    assert_string_equal(ct_last_error_message(),
                        "no forecast: CT_ELECTRICITYMAPS_URL (host 192.0.2.1) is plain http to another machine: the "
                        "Electricity Maps key is not sent; use https");
    setenv("CT_ELECTRICITYMAPS_URL", il_srv.base, 1);
    /* to this machine it goes, and an Electricity Maps forecast plans */
    assert_int_equal(ct_plan(&cfg, 3 * 3600, 0, &r), 0);
    assert_true(r.mean_g_per_kwh == 150); /* hours 3..8 */
    char *log = im_get(&il_srv, "/_log");
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
    snprintf(expect, sizeof expect,
             "{\"start\":\"%s\",\"end\":\"%s\",\"duration_s\":21600,\"mean_gco2_per_kwh\":100.000,", iso, iso2);
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
        {{"plan", "--duration", "6h", "--country", "GB", "--offline"},
         1,
         "carbontracker plan: offline (CT_OFFLINE or --offline): no forecast can be fetched\n"},
        {{"plan", "--duration", "6x"},
         2,
         "carbontracker plan: --duration needs a duration such as 90m, 6h, 2d or 3600 (got \"6x\")\n"},
        {{"plan", "--duration", "-1h"},
         2,
         "carbontracker plan: --duration needs a duration such as 90m, 6h, 2d or 3600 (got \"-1h\")\n"},
        {{"plan", "--country", "GB"}, 2, "carbontracker plan: --duration is required, e.g. --duration 6h\n"},
        {{"plan", "--duration"}, 2, "carbontracker plan: --duration needs a value\n"},
        {{"plan", "--duration", "1h", "--cloud", "gcp"},
         2,
         "carbontracker plan: --cloud needs PROVIDER:REGION, e.g. gcp:europe-west1 (got \"gcp\")\n"},
        {{"plan", "--duration", "1h", "--bogus"},
         2,
         "carbontracker plan: unknown option \"--bogus\" (see carbontracker plan --help)\n"},
        {{"plan", "--duration", "1h", "--country", "DE"},
         1,
         "carbontracker plan: no forecast: no live service without an Electricity Maps key outside GB and DK for "
         "country DE\n"},
        {{"plan", "--duration", "3d", "--country", "GB"},
         1,
         "carbontracker plan: UK Carbon Intensity API forecast for national: the forecast covers "},
        {{"plan", "--duration", "1h", "--postcode", "nowhere"},
         2,
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
    il_sleep(0.5); /* the mock answers in milliseconds */
    assert_int_equal(ct_epoch_start(t), 0);
    il_sleep(0.3);
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
    double lo = il_uk_mean(t0, after, after + remaining_s), hi = il_uk_mean(t0, before, before + remaining_s);
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
    /* The block says which intensity priced the predicted CO2eq (issue 12). */
    char *out = ts_find_suffix(logdir, "_carbontracker_output.log");
    assert_non_null(out);
    assert_int_equal(ts_count_lines_with(out, "\tIntensity:\tthe forecast (UK Carbon Intensity API forecast, national, "
                                              "mean "),
                     1);
    assert_int_equal(ts_count_lines_with(out, "\t90 % interval:\t"), 1);
    free(out);
    unlink(jsonl);
    free(jsonl);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", logdir);
    assert_int_equal(system(cmd), 0);
}

/* A service that never answers costs the run nothing but its fallback. */
static void test_tracker_with_hanging_service(void **state) {
    (void)state;
    assert_int_equal(im_case(&il_srv, "hang"), 0);
    ct_config cfg;
    ct_config_init(&cfg);
    cfg.epochs = 2;
    cfg.update_interval = 0.05;
    cfg.verbose = 0;
    cfg.sim_cpu = "test cpu";
    cfg.sim_cpu_tdp = 100;
    cfg.components = "cpu";
    cfg.country = "DK";
    double t0 = il_mono();
    ct_tracker *t = NULL;
    assert_int_equal(ct_tracker_new(&cfg, &t), 0);
    assert_int_equal(ct_epoch_start(t), 0);
    il_sleep(0.1);
    assert_int_equal(ct_epoch_end(t), 0);
    ct_result a;
    assert_int_equal(ct_get_actual(t, &a), 0);
    assert_int_equal(a.intensity_kind, CT_INTENSITY_STATIC);
    assert_non_null(strstr(a.intensity_source, "(DK), yearly average "));
    assert_non_null(strstr(a.intensity_source, "(no live value yet)"));
    ct_tracker_free(t); /* abandons the request in flight */
    assert_true(il_mono() - t0 < 2.0);
}

/* No location: the country found by IP geolocation picks the static value
 * (France has no free service and no key is set). */
static void test_tracker_static_from_ip_geolocation(void **state) {
    (void)state;
    assert_int_equal(im_case(&il_srv, "ip_fr"), 0);
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
    il_sleep(0.5);
    assert_int_equal(ct_epoch_start(t), 0);
    il_sleep(0.2);
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
    char *log = im_get(&il_srv, "/_log");
    assert_non_null(strstr(log, "\"path\": \"/json\""));
    assert_null(strstr(log, "/carbon-intensity/")); /* no key: Electricity Maps is not asked */
    free(log);
}

/* The intensity object itself: fixed means no network; live values, the
 * forecast, and the labelled static value before and after them. */
static void test_intensity_object_order_and_labels(void **state) {
    (void)state;
    ct_config cfg;
    ct_config_init(&cfg);
    cfg.country = "GB";
    cfg.carbon_intensity = 42;
    ct__source_ctx ctx = {&cfg, il_ctx_notice, NULL};
    ct_intensity *in = NULL;
    char why[512];
    assert_int_equal(ct__intensity_open(&cfg, &ctx, &in, why, sizeof why), 0);
    ct__intensity_value v;
    double now = ct__unix_s();
    ct__intensity_now(in, now, &v);
    assert_true(v.g_per_kwh == 42 && v.kind == CT_INTENSITY_FIXED);
    ct__intensity_over(in, now, now + 3600, &v);
    assert_true(v.g_per_kwh == 42 && v.kind == CT_INTENSITY_FIXED);
    il_sleep(0.2);
    ct__intensity_close(in);
    assert_int_equal(im_requests(&il_srv), 0); /* a fixed value asks nobody */

    cfg.carbon_intensity = -1;
    assert_int_equal(ct__intensity_open(&cfg, &ctx, &in, why, sizeof why), 0);
    double end = il_mono() + 5;
    do {
        ct__intensity_now(in, ct__unix_s(), &v);
        if (v.kind == CT_INTENSITY_STATIC) {
            assert_non_null(strstr(v.source, "United Kingdom (GB), yearly average "));
            assert_non_null(strstr(v.source, " (no live value yet)"));
            il_sleep(0.01);
        }
    } while (v.kind != CT_INTENSITY_LIVE && il_mono() < end);
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
    il_notices(n, sizeof n);
    assert_null(strstr(n, "live carbon intensity from"));
    ct__intensity_tick(in, now);
    il_notices(n, sizeof n);
    assert_non_null(
        strstr(n, "0:live carbon intensity from UK Carbon Intensity API (country GB), refreshed every 900 s"));
    ct__intensity_close(in);

    /* offline: the static value, no label, no request */
    im_reset(&il_srv);
    cfg.offline = 1;
    assert_int_equal(ct__intensity_open(&cfg, &ctx, &in, why, sizeof why), 0);
    ct__intensity_now(in, now, &v);
    assert_int_equal(v.kind, CT_INTENSITY_STATIC);
    assert_null(strstr(v.source, "live value"));
    il_sleep(0.1);
    ct__intensity_close(in);
    assert_int_equal(im_requests(&il_srv), 0);

    /* a bad location option is an error of open, with the option named */
    cfg.offline = 0;
    cfg.postcode = "!!";
    assert_int_equal(ct__intensity_open(&cfg, &ctx, &in, why, sizeof why), CT_EINVAL);
    assert_string_equal(why, "postcode must be a UK outward postcode such as \"RG10\" or \"SW1\" (got \"!!\")");
    assert_null(in);
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
    ct__source_ctx ctx = {&cfg, il_ctx_notice, NULL};
    ct_intensity *in = NULL;
    char why[512];
    assert_int_equal(ct__intensity_open(&cfg, &ctx, &in, why, sizeof why), 0);
    il_wait_live(in);
    double before = ct__unix_s();
    double t0 = floor(before / 1800) * 1800;
    /* 96 h at constant power from now: 48 h of service values, the rest at 263 */
    ct__intensity_value v;
    double now = ct__unix_s();
    ct__intensity_over(in, now, now + 96 * 3600.0, &v);
    double horizon = t0 + 48 * 3600.0;
    double expect = (il_uk_mean(t0, now, horizon) * (horizon - now) + 263.0 * (now + 96 * 3600.0 - horizon)) /
                    (96 * 3600.0);
    if (fabs(v.g_per_kwh - expect) > 1e-6) fail_msg("over 96 h: %.6f, want %.6f (%s)", v.g_per_kwh, expect, v.source);
    assert_int_equal(v.kind, CT_INTENSITY_FORECAST);
    assert_non_null(strstr(v.source, "% forecast, the rest at the current 263)"));

    /* a profile: 6 h at 100 with power 3, 6 h at 300 with power 1, 2 h past the horizon with power 2 */
    double t[] = {t0 + 10 * 1800.0, t0 + 22 * 1800.0, t0 + 34 * 1800.0, t0 + 96 * 1800.0, t0 + 100 * 1800.0};
    double w[] = {3, 1, 0, 2};
    ct__intensity_mean m;
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
        cmocka_unit_test_setup(test_plan_api, il_setup),
        cmocka_unit_test_setup(test_plan_cli, il_setup),
        cmocka_unit_test_setup(test_tracker_uses_live_and_forecast, il_setup),
        cmocka_unit_test_setup(test_tracker_with_hanging_service, il_setup),
        cmocka_unit_test_setup(test_tracker_static_from_ip_geolocation, il_setup),
        cmocka_unit_test_setup(test_intensity_object_order_and_labels, il_setup),
        cmocka_unit_test_setup(test_intensity_over_horizon_and_profile, il_setup),
    };
    return cmocka_run_group_tests(tests, il_group_setup, il_group_teardown);
}
