/* Issue 4: location from options and environment, the Electricity Maps key
 * and its file's permissions, offline. No network. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/stat.h>

#include "intensity/providers/providers.h"
#include "test_support.h"

static const char *const ENV[] = {"CT_COUNTRY",
                                  "CT_ZONE",
                                  "CT_POSTCODE",
                                  "CT_LATITUDE",
                                  "CT_LONGITUDE",
                                  "CT_CLOUD_PROVIDER",
                                  "CT_CLOUD_REGION",
                                  "CT_OFFLINE",
                                  "CT_ELECTRICITYMAPS_KEY",
                                  "CT_ELECTRICITYMAPS_KEY_FILE",
                                  "XDG_CONFIG_HOME",
                                  NULL};

static int clean_env(void **state) {
    (void)state;
    for (int i = 0; ENV[i]; i++) unsetenv(ENV[i]);
    setenv("HOME", "/nonexistent-home-for-tests", 1);
    return 0;
}

static void test_nothing_given(void **state) {
    (void)state;
    ct_config cfg;
    ct_config_init(&cfg);
    ct__location loc;
    char why[512] = "";
    assert_int_equal(ct__location_resolve(&cfg, &loc, why, sizeof why), 0);
    assert_int_equal(loc.given, 0);
    assert_string_equal(loc.country, "");
    assert_true(isnan(loc.lat) && isnan(loc.lon));
}

static void test_config_and_env(void **state) {
    (void)state;
    ct_config cfg;
    ct_config_init(&cfg);
    ct__location loc;
    char why[512] = "";

    cfg.country = "dk";
    assert_int_equal(ct__location_resolve(&cfg, &loc, why, sizeof why), 0);
    assert_string_equal(loc.country, "DK");
    assert_int_equal(loc.given, 1);
    assert_string_equal(loc.origin, "country DK");

    /* env when the option is unset; the option wins over env */
    ct_config_init(&cfg);
    setenv("CT_ZONE", "dk-dk1", 1);
    assert_int_equal(ct__location_resolve(&cfg, &loc, why, sizeof why), 0);
    assert_string_equal(loc.zone, "DK-DK1");
    assert_string_equal(loc.country, "DK");
    cfg.zone = "DE";
    assert_int_equal(ct__location_resolve(&cfg, &loc, why, sizeof why), 0);
    assert_string_equal(loc.zone, "DE");
    assert_string_equal(loc.country, "DE");
    unsetenv("CT_ZONE");

    /* a full UK postcode keeps its outward code and means GB */
    ct_config_init(&cfg);
    cfg.postcode = "rg10 1ab";
    assert_int_equal(ct__location_resolve(&cfg, &loc, why, sizeof why), 0);
    assert_string_equal(loc.postcode, "RG10");
    assert_string_equal(loc.country, "GB");

    ct_config_init(&cfg);
    setenv("CT_LATITUDE", "55.68", 1);
    setenv("CT_LONGITUDE", "12.57", 1);
    assert_int_equal(ct__location_resolve(&cfg, &loc, why, sizeof why), 0);
    assert_true(fabs(loc.lat - 55.68) < 1e-12 && fabs(loc.lon - 12.57) < 1e-12);
    assert_int_equal(loc.given, 1);
    unsetenv("CT_LATITUDE");
    unsetenv("CT_LONGITUDE");

    ct_config_init(&cfg);
    cfg.cloud_provider = "gcp";
    cfg.cloud_region = "europe-west1";
    assert_int_equal(ct__location_resolve(&cfg, &loc, why, sizeof why), 0);
    assert_string_equal(loc.country, "BE");
    assert_true(loc.cloud_g_per_kwh == 122);
    assert_string_equal(loc.origin, "cloud gcp:europe-west1");
}

static void test_bad_locations(void **state) {
    (void)state;
    ct_config cfg;
    ct__location loc;
    char why[512];
    struct {
        const char *country, *zone, *postcode, *lat, *lon, *cprov, *creg, *msg;
    } cases[] = {
        {"Denmrak", NULL, NULL, NULL, NULL, NULL, NULL,
         "unknown country \"Denmrak\": did you mean \"Denmark\" (DK)? Give an ISO 3166-1 alpha-2 or alpha-3 code or "
         "the English name, such as \"DK\", \"DNK\" or \"Denmark\""},
        {NULL, "D", NULL, NULL, NULL, NULL, NULL,
         "zone must be an Electricity Maps zone such as \"DE\" or \"DK-DK1\" (got \"D\")"},
        {NULL, "DE;rm", NULL, NULL, NULL, NULL, NULL,
         "zone must be an Electricity Maps zone such as \"DE\" or \"DK-DK1\" (got \"DE;rm\")"},
        {NULL, NULL, "12345", NULL, NULL, NULL, NULL,
         "postcode must be a UK outward postcode such as \"RG10\" or \"SW1\" (got \"12345\")"},
        {NULL, NULL, "../../x", NULL, NULL, NULL, NULL,
         "postcode must be a UK outward postcode such as \"RG10\" or \"SW1\" (got \"../../x\")"},
        {"DK", NULL, "RG10", NULL, NULL, NULL, NULL, "a UK postcode (RG10) was given with country DK"},
        {NULL, NULL, NULL, "91", "0", NULL, NULL, "CT_LATITUDE must be degrees between -90 and 90 (got \"91\")"},
        {NULL, NULL, NULL, "55", "east", NULL, NULL,
         "CT_LONGITUDE must be degrees between -180 and 180 (got \"east\")"},
        {NULL, NULL, NULL, "55", NULL, NULL, NULL, "latitude and longitude must be given together"},
        {NULL, NULL, NULL, NULL, NULL, "gcp", NULL,
         "a cloud location needs both a provider and a region (e.g. gcp:europe-west1)"},
        {NULL, NULL, NULL, NULL, NULL, "gcp", "mars-north1",
         "unknown cloud region gcp:mars-north1 (see data/cloud-region-intensity.csv)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        clean_env(NULL);
        ct_config_init(&cfg);
        cfg.country = cases[i].country;
        cfg.zone = cases[i].zone;
        cfg.postcode = cases[i].postcode;
        if (cases[i].lat) setenv("CT_LATITUDE", cases[i].lat, 1);
        if (cases[i].lon) setenv("CT_LONGITUDE", cases[i].lon, 1);
        cfg.cloud_provider = cases[i].cprov;
        cfg.cloud_region = cases[i].creg;
        why[0] = '\0';
        assert_int_equal(ct__location_resolve(&cfg, &loc, why, sizeof why), CT_EINVAL);
        assert_string_equal(why, cases[i].msg);
    }
}

static void test_offline(void **state) {
    (void)state;
    ct_config cfg;
    ct_config_init(&cfg);
    assert_int_equal(ct__offline(&cfg), 0);
    cfg.offline = 1;
    assert_int_equal(ct__offline(&cfg), 1);
    cfg.offline = 0;
    setenv("CT_OFFLINE", "1", 1);
    assert_int_equal(ct__offline(&cfg), 1);
    setenv("CT_OFFLINE", "0", 1);
    assert_int_equal(ct__offline(&cfg), 0);
}

static void test_key_sources(void **state) {
    (void)state;
    ct_config cfg;
    ct_config_init(&cfg);
    char key[300], why[512] = "";
    assert_int_equal(ct__key_resolve(&cfg, key, sizeof key, why, sizeof why), CT_ENODATA);
    setenv("CT_ELECTRICITYMAPS_KEY", "envkey123", 1);
    assert_int_equal(ct__key_resolve(&cfg, key, sizeof key, why, sizeof why), 0);
    assert_string_equal(key, "envkey123");
    cfg.electricitymaps_key = "cfgkey456";
    assert_int_equal(ct__key_resolve(&cfg, key, sizeof key, why, sizeof why), 0);
    assert_string_equal(key, "cfgkey456");
    /* a key with a line break could inject an HTTP header: refused, and not echoed */
    cfg.electricitymaps_key = "abc\r\nX-Evil: 1";
    assert_int_equal(ct__key_resolve(&cfg, key, sizeof key, why, sizeof why), CT_EINVAL);
    assert_string_equal(why, "the Electricity Maps key is not a single printable token");
    assert_string_equal(key, "");
}

static void test_key_file_permissions(void **state) {
    (void)state;
    char *dir = ts_mkdtemp();
    char path[1024];
    snprintf(path, sizeof path, "%s/em.key", dir);
    assert_int_equal(ts_write(dir, "em.key", "  filekey789\n"), 0);
    ct_config cfg;
    ct_config_init(&cfg);
    cfg.electricitymaps_key_file = path;
    char key[300], why[1024] = "";

    assert_int_equal(chmod(path, 0600), 0);
    assert_int_equal(ct__key_resolve(&cfg, key, sizeof key, why, sizeof why), 0);
    assert_string_equal(key, "filekey789");

    assert_int_equal(chmod(path, 0644), 0);
    assert_int_equal(ct__key_resolve(&cfg, key, sizeof key, why, sizeof why), CT_EINVAL);
    char expect[2048];
    snprintf(expect, sizeof expect,
             "Electricity Maps key file %s is accessible by group or others (mode 0644); refusing to use it "
             "(run: chmod 600 %s)",
             path, path);
    assert_string_equal(why, expect);
    assert_null(strstr(why, "filekey789"));
    assert_string_equal(key, "");

    assert_int_equal(chmod(path, 0640), 0);
    assert_int_equal(ct__key_resolve(&cfg, key, sizeof key, why, sizeof why), CT_EINVAL);

    /* env names the file too; two lines are refused */
    assert_int_equal(ts_write(dir, "two.key", "a\nb\n"), 0);
    snprintf(path, sizeof path, "%s/two.key", dir);
    assert_int_equal(chmod(path, 0600), 0);
    cfg.electricitymaps_key_file = NULL;
    setenv("CT_ELECTRICITYMAPS_KEY_FILE", path, 1);
    assert_int_equal(ct__key_resolve(&cfg, key, sizeof key, why, sizeof why), CT_EINVAL);
    snprintf(expect, sizeof expect, "Electricity Maps key file %s does not hold one key on one line", path);
    assert_string_equal(why, expect);

    /* a named file that does not exist is an error; the default one is optional */
    snprintf(path, sizeof path, "%s/missing.key", dir);
    setenv("CT_ELECTRICITYMAPS_KEY_FILE", path, 1);
    assert_int_equal(ct__key_resolve(&cfg, key, sizeof key, why, sizeof why), CT_EINVAL);
    assert_non_null(strstr(why, "cannot be read: No such file or directory"));
    unsetenv("CT_ELECTRICITYMAPS_KEY_FILE");
    setenv("XDG_CONFIG_HOME", dir, 1);
    assert_int_equal(ct__key_resolve(&cfg, key, sizeof key, why, sizeof why), CT_ENODATA);
    assert_int_equal(ts_write(dir, "carbontracker/electricitymaps.key", "defaultkey\n"), 0);
    snprintf(path, sizeof path, "%s/carbontracker/electricitymaps.key", dir);
    assert_int_equal(chmod(path, 0600), 0);
    assert_int_equal(ct__key_resolve(&cfg, key, sizeof key, why, sizeof why), 0);
    assert_string_equal(key, "defaultkey");
    ts_rmtree(dir);
    free(dir);
}

/* Issue 10 item 4: a FIFO named as the key file blocked ct_tracker_new (which
 * promises never to block) in open(2) waiting for a writer. Refused at once. */
static void test_key_file_fifo_does_not_block(void **state) {
    (void)state;
    char *dir = ts_mkdtemp();
    char path[1024], expect[1200], key[300], why[1024] = "";
    snprintf(path, sizeof path, "%s/fifo.key", dir);
    assert_int_equal(mkfifo(path, 0600), 0);
    ct_config cfg;
    ct_config_init(&cfg);
    cfg.electricitymaps_key_file = path;
    assert_int_equal(ct__key_resolve(&cfg, key, sizeof key, why, sizeof why), CT_EINVAL);
    snprintf(expect, sizeof expect, "Electricity Maps key file %s is not a regular file", path);
    assert_string_equal(why, expect);
    assert_string_equal(key, "");
    ts_rmtree(dir);
    free(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_nothing_given, clean_env),
        cmocka_unit_test_setup(test_config_and_env, clean_env),
        cmocka_unit_test_setup(test_bad_locations, clean_env),
        cmocka_unit_test_setup(test_offline, clean_env),
        cmocka_unit_test_setup(test_key_sources, clean_env),
        cmocka_unit_test_setup(test_key_file_permissions, clean_env),
        cmocka_unit_test_setup(test_key_file_fifo_does_not_block, clean_env),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
