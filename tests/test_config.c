/* Options: the original's defaults, and every invalid option refused with a message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/base.h"
#include "core/core.h"
#include "intensity/intensity.h"
#include "output/format.h"
#include "sources/source.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void test_defaults(void **state) {
    (void)state;
    ct_config c;
    ct_config_init(&c);
    assert_int_equal(c.epochs_before_pred, 1);
    assert_int_equal(c.monitor_epochs, -1);
    assert_true(c.update_interval == 1.0);
    assert_int_equal(c.interpretable, 1);
    assert_int_equal(c.stop_and_confirm, 0);
    assert_int_equal(c.ignore_errors, 0);
    assert_string_equal(c.components, "all");
    assert_int_equal(c.devices_by_pid, 0);
    assert_null(c.log_dir);
    assert_string_equal(c.log_file_prefix, "");
    assert_int_equal(c.verbose, 1);
    assert_int_equal(c.decimal_precision, 12);
    assert_true(c.sim_cpu_util == 0.5 && c.sim_gpu_util == 0.5);
    assert_true(c.pue == 1.58);
    assert_true(c.carbon_intensity < 0);
    assert_true(isnan(c.latitude));
}

/* Each case: a change to valid options that must be refused, and a word the message must contain. */
static void test_invalid(void **state) {
    (void)state;
    static const struct {
        const char *what;
        const char *needle;
    } cases[] = {
        {"epochs=0", "epochs must be at least 1"},
        {"monitor_epochs=0", "monitor_epochs must be -1"},
        {"monitor_below_pred", "must be greater than or equal to epochs_before_pred"},
        {"components=tpu", "unknown components \"tpu\""},
        {"components=", "unknown components"},
        {"sim_cpu_no_tdp", "needs sim_cpu_tdp"},
        {"sim_gpu_no_watts", "needs sim_gpu_watts"},
        {"sim_cpu_util=2", "sim_cpu_util must be between 0 and 1"},
        {"update_interval=0", "update_interval must be a positive"},
        {"update_interval=nan", "update_interval must be a positive"},
        {"pue=0.5", "pue must be a number >= 1"},
        {"verbose=3", "verbose must be 0, 1 or 2"},
        {"precision=-1", "decimal_precision"},
        {"country=DNKK", "alpha-2"},
        {"country=Untied Kingdom", "did you mean \"United Kingdom\" (GB)"},
        {"country=UK", "did you mean \"United Kingdom\" (GB)"},
        {"epochs_before_pred=-2", "epochs_before_pred must be"},
        {"budget<0", "budgets must be >= 0"},
        {"rapl_zones=core", "rapl_zones must be \"auto\""},
        /* every other refusal of check_values (issue 10 item 1: every error path of option resolution) */
        {"monitor_epochs=-2", "monitor_epochs must be -1"},
        {"update_interval=inf", "update_interval must be a positive"},
        {"verbose=-1", "verbose must be 0, 1 or 2"},
        {"precision=31", "decimal_precision"},
        {"pue=inf", "pue must be a number >= 1"},
        {"pue=nan", "pue must be a number >= 1"},
        {"components=long", "unknown components"},
        {"sim_gpu_util=-0.1", "sim_gpu_util must be between 0 and 1"},
        {"carbon_intensity=inf", "carbon_intensity must be a finite"},
        {"max_energy_kwh<0", "budgets must be >= 0"},
        {"intensity_refresh_s=0", "intensity_refresh_s must be > 0"},
        {"status_line=2", "status_line must be -1"},
        {"country=", "unknown country"},
        {"components=escape", "unknown components \"\\x1b[2J\""}, /* shown, not sent to the terminal */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ct_config c;
        ct_config_init(&c);
        c.epochs = 10;
        c.sim_cpu = "cpu";
        c.sim_cpu_tdp = 100;
        c.components = "cpu";
        c.verbose = 0;
        const char *w = cases[i].what;
        if (!strcmp(w, "epochs=0")) c.epochs = 0;
        else if (!strcmp(w, "monitor_epochs=0")) c.monitor_epochs = 0;
        else if (!strcmp(w, "monitor_below_pred")) c.monitor_epochs = 2, c.epochs_before_pred = 3;
        else if (!strcmp(w, "components=tpu")) c.components = "tpu";
        else if (!strcmp(w, "components=")) c.components = ",";
        else if (!strcmp(w, "sim_cpu_no_tdp")) c.sim_cpu_tdp = 0;
        else if (!strcmp(w, "sim_gpu_no_watts")) c.sim_gpu = "g";
        else if (!strcmp(w, "sim_cpu_util=2")) c.sim_cpu_util = 2;
        else if (!strcmp(w, "update_interval=0")) c.update_interval = 0;
        else if (!strcmp(w, "update_interval=nan")) c.update_interval = NAN;
        else if (!strcmp(w, "pue=0.5")) c.pue = 0.5;
        else if (!strcmp(w, "verbose=3")) c.verbose = 3;
        else if (!strcmp(w, "precision=-1")) c.decimal_precision = -1;
        else if (!strncmp(w, "country=", 8)) c.country = w + 8;
        else if (!strcmp(w, "epochs_before_pred=-2")) c.epochs_before_pred = -2;
        else if (!strcmp(w, "budget<0")) c.max_co2_g = -1;
        else if (!strcmp(w, "rapl_zones=core")) c.rapl_zones = "core";
        else if (!strcmp(w, "monitor_epochs=-2")) c.monitor_epochs = -2;
        else if (!strcmp(w, "update_interval=inf")) c.update_interval = INFINITY;
        else if (!strcmp(w, "verbose=-1")) c.verbose = -1;
        else if (!strcmp(w, "precision=31")) c.decimal_precision = 31;
        else if (!strcmp(w, "pue=inf")) c.pue = INFINITY;
        else if (!strcmp(w, "pue=nan")) c.pue = NAN;
        else if (!strcmp(w, "components=long"))
            c.components = "cpu,gpu,cpu,gpu,cpu,gpu,cpu,gpu,cpu,gpu,cpu,gpu,cpu,gpu,cpu,gpu,cpu"; /* >= 64 */
        else if (!strcmp(w, "sim_gpu_util=-0.1")) c.sim_gpu = "g", c.sim_gpu_watts = 10, c.sim_gpu_util = -0.1;
        else if (!strcmp(w, "carbon_intensity=inf")) c.carbon_intensity = INFINITY;
        else if (!strcmp(w, "max_energy_kwh<0")) c.max_energy_kwh = -1;
        else if (!strcmp(w, "intensity_refresh_s=0")) c.intensity_refresh_s = 0;
        else if (!strcmp(w, "status_line=2")) c.status_line = 2;
        else if (!strcmp(w, "components=escape")) c.components = "\x1b[2J";
        ct_tracker *t = (ct_tracker *)0x1;
        int rc = ct_tracker_new(&c, &t);
        if (rc != CT_EINVAL || t != NULL || !strstr(ct_last_error_message(), cases[i].needle)) {
            fprintf(stderr, "case %s: rc=%d message=\"%s\"\n", w, rc, ct_last_error_message());
            fail();
        }
    }
    assert_int_equal(ct_tracker_new(NULL, NULL), CT_EINVAL);
}

static void test_resolve(void **state) {
    (void)state;
    ct_config c, r;
    char msg[256];
    ct_config_init(&c);
    c.epochs = 7;
    c.epochs_before_pred = -1;
    c.country = "dk";
    assert_int_equal(ct__config_resolve(&c, &r, msg, sizeof msg), 0);
    assert_int_equal(r.epochs_before_pred, 7);
    assert_int_equal(r.monitor_epochs, 7);
    assert_string_equal(r.country, "DK");
    assert_true(r.components != c.components); /* copied, not borrowed */
    ct__config_free(&r);

    setenv("CT_COUNTRY", "se", 1);
    c.country = NULL;
    assert_int_equal(ct__config_resolve(&c, &r, msg, sizeof msg), 0);
    assert_string_equal(r.country, "SE");
    ct__config_free(&r);
    setenv("CT_COUNTRY", "Swedn", 1);
    r.components = (const char *)0x1; /* out is emptied on failure, never left holding the caller's pointers */
    assert_int_equal(ct__config_resolve(&c, &r, msg, sizeof msg), CT_EINVAL);
    assert_non_null(strstr(msg, "CT_COUNTRY"));
    assert_non_null(strstr(msg, "did you mean \"Sweden\" (SE)"));
    assert_null(r.components);
    ct__config_free(&r); /* safe: owns nothing */
    unsetenv("CT_COUNTRY");

    int want[2];
    assert_int_equal(ct__parse_components("GPU, cpu", want, msg, sizeof msg), 0);
    assert_true(want[0] && want[1]);
    assert_int_equal(ct__parse_components("gpu", want, msg, sizeof msg), 0);
    assert_true(!want[0] && want[1]);
}

static void test_static_tables(void **state) {
    (void)state;
    double g = 0;
    int year = 0;
    char name[64];
    /* Values straight from data/carbon-intensity-by-country.csv. */
    assert_int_equal(ct__country_intensity("AL", &g, &year, name, sizeof name), 0);
    assert_true(fabs(g - 24.285715) < 1e-9);
    assert_int_equal(year, 2022);
    assert_string_equal(name, "Albania");
    assert_int_equal(ct__country_intensity("ae", &g, &year, NULL, 0), 0);
    assert_true(fabs(g - 561.1348) < 1e-9);
    assert_int_equal(ct__country_intensity("XX", &g, &year, NULL, 0), CT_ENODATA);
    assert_int_equal(ct__country_intensity("", &g, &year, NULL, 0), CT_ENODATA);
    assert_int_equal(ct__country_intensity(NULL, &g, &year, NULL, 0), CT_ENODATA);
    char cc[3];
    assert_int_equal(ct__cloud_region_intensity("gcp", "asia-northeast1", &g, cc, sizeof cc), 0);
    assert_true(g == 459);
    assert_string_equal(cc, "JP");
    assert_int_equal(ct__cloud_region_intensity("gcp", "mars-north1", &g, cc, sizeof cc), CT_ENODATA);
    const char *src = NULL;
    assert_true(ct__car_g_per_km(&src) == 107.5); /* newest row of data/co2-equivalents.csv */
    assert_non_null(strstr(src, "2020"));
}

/* Issue 10 item 1: CT_COUNTRY=DNK aborted in free() (the error path freed the
 * caller's strings). Every spelling of a country resolves; a bad one fails
 * cleanly from ct_tracker_new, the path the CLI and Python take. */
static void test_country_spellings(void **state) {
    (void)state;
    static const struct {
        const char *text, *a2;
    } ok[] = {{"DK", "DK"},
              {"dk", "DK"},
              {"DNK", "DK"},
              {"dnk", "DK"},
              {"Denmark", "DK"},
              {"denmark ", "DK"},
              {"GBR", "GB"},
              {"United Kingdom", "GB"},
              {"united-kingdom", "GB"},
              {"USA", "US"},
              {"United States", "US"},
              {"South Korea", "KR"},
              {"Korea, Republic of", "KR"},
              {"Côte d'Ivoire", "CI"},
              {"Cote d'Ivoire", "CI"},
              {"Turkey", "TR"},
              {"XK", ""}};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        char a2[3], msg[300];
        int rc = ct__country_resolve(ok[i].text, a2, msg, sizeof msg);
        if (!ok[i].a2[0]) { /* Kosovo: user-assigned, not in ISO 3166-1 */
            assert_int_equal(rc, CT_EINVAL);
            continue;
        }
        if (rc != 0 || strcmp(a2, ok[i].a2) != 0) {
            fprintf(stderr, "\"%s\": rc=%d a2=%s msg=%s\n", ok[i].text, rc, a2, msg);
            fail();
        }
    }
    static const struct {
        const char *text, *needle;
    } bad[] = {{"UK", "did you mean \"United Kingdom\" (GB)"},
               {"Untied Kingdom", "did you mean \"United Kingdom\" (GB)"},
               {"Denmrak", "did you mean \"Denmark\" (DK)"},
               {"XX", "unknown country \"XX\": give"},
               {"", "unknown country"},
               {"Atlantis", "unknown country \"Atlantis\": give"},
               {"\x1b]0;pwned\x07", "unknown country \"\\x1b]0;pwned\\x07\""}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char a2[3] = "ZZ", msg[300] = "";
        int rc = ct__country_resolve(bad[i].text, a2, msg, sizeof msg);
        if (rc != CT_EINVAL || a2[0] || !strstr(msg, bad[i].needle)) {
            fprintf(stderr, "\"%s\": rc=%d msg=%s\n", bad[i].text, rc, msg);
            fail();
        }
    }
    char a2[3], msg[300];
    char longname[300];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    assert_int_equal(ct__country_resolve(longname, a2, msg, sizeof msg), CT_EINVAL);
    assert_int_equal(ct__country_resolve(NULL, a2, msg, sizeof msg), CT_EINVAL);

    /* Through the tracker, from the environment (the crash) and from the option. */
    const char *envs[] = {"DNK", "Denmark", "Untied Kingdom", "ZZZ"};
    for (size_t i = 0; i < sizeof envs / sizeof envs[0]; i++) {
        setenv("CT_COUNTRY", envs[i], 1);
        ct_config c;
        ct_config_init(&c);
        c.epochs = 2;
        c.sim_cpu = "cpu";
        c.sim_cpu_tdp = 100;
        c.components = "cpu";
        c.verbose = 0;
        ct_tracker *t = NULL;
        int rc = ct_tracker_new(&c, &t);
        if (i < 2) {
            assert_int_equal(rc, 0);
            ct_tracker_free(t);
        } else {
            assert_int_equal(rc, CT_EINVAL);
            assert_null(t);
            assert_non_null(strstr(ct_last_error_message(), "CT_COUNTRY"));
        }
    }
    unsetenv("CT_COUNTRY");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),      cmocka_unit_test(test_invalid),           cmocka_unit_test(test_resolve),
        cmocka_unit_test(test_static_tables), cmocka_unit_test(test_country_spellings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
