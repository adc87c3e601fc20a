/* Issue 4: the providers' JSON parsers fed bytes directly (documented shapes
 * and the bad ones). Needs jansson. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "intensity/providers/providers.h"

#define PARSE_EM_LATEST(json, s, zone, why) \
    ct__em_parse_latest(json, strlen(json), s, zone, sizeof zone, why, sizeof why)

static void test_em_latest(void **state) {
    (void)state;
    ct__iseries s = {0};
    char zone[48] = "", why[512] = "";
    const char *doc = "{\"zone\":\"DE\",\"carbonIntensity\":302,\"datetime\":\"2026-04-25T18:00:00.000Z\","
                      "\"updatedAt\":\"2026-04-25T18:20:00.000Z\",\"emissionFactorType\":\"lifecycle\","
                      "\"isEstimated\":true,\"estimationMethod\":\"TIME_SLICER_AVERAGE\"}";
    assert_int_equal(PARSE_EM_LATEST(doc, &s, zone, why), 0);
    assert_int_equal(s.n, 1);
    assert_true(s.p[0].g == 302 && s.p[0].t0 == 1777140000.0 && s.p[0].t1 == 1777140000.0 + 3600);
    assert_string_equal(zone, "DE");
    ct__iseries_free(&s);

    struct {
        const char *json;
        int rc;
        const char *why;
    } bad[] = {
        {"{\"zone\":\"DE\",\"carbonIntensity\":null,\"datetime\":\"2026-04-25T18:00:00.000Z\"}", CT_ENODATA,
         "Electricity Maps: no carbonIntensity/datetime in the latest value"},
        {"{\"zone\":\"DE\",\"datetime\":\"2026-04-25T18:00:00.000Z\"}", CT_ENODATA,
         "Electricity Maps: no carbonIntensity/datetime in the latest value"},
        {"{\"zone\":\"DE\",\"carbonIntensity\":\"302\",\"datetime\":\"2026-04-25T18:00:00.000Z\"}", CT_ENODATA,
         "Electricity Maps: no carbonIntensity/datetime in the latest value"},
        {"{\"zone\":\"DE\",\"carbonIntensity\":302,\"datetime\":\"yesterday\"}", CT_ENODATA,
         "Electricity Maps: no carbonIntensity/datetime in the latest value"},
        {"[1,2,3]", CT_EPARSE, "Electricity Maps: answer is not a JSON object"},
        {"", CT_EPARSE, NULL},
        {"<html>busy</html>", CT_EPARSE, NULL},
        {"{\"zone\":\"DE\",\"carbonIntensity\":30", CT_EPARSE, NULL},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        why[0] = '\0';
        assert_int_equal(PARSE_EM_LATEST(bad[i].json, &s, zone, why), bad[i].rc);
        if (bad[i].why) assert_string_equal(why, bad[i].why);
        else assert_true(strncmp(why, "malformed JSON from Electricity Maps: ", 38) == 0);
        assert_int_equal(s.n, 0);
    }
}

static void test_em_lists(void **state) {
    (void)state;
    ct__iseries s = {0};
    char why[512] = "";
    const char *doc =
        "{\"zone\":\"DE\",\"forecast\":[{\"datetime\":\"2026-04-25T19:00:00.000Z\",\"carbonIntensity\":299},"
        "{\"datetime\":\"2026-04-25T18:00:00.000Z\",\"carbonIntensity\":310},"
        "{\"datetime\":\"2026-04-25T20:00:00.000Z\",\"carbonIntensity\":null},"
        "{\"carbonIntensity\":5}]}";
    assert_int_equal(ct__em_parse_list(doc, strlen(doc), "forecast", &s, why, sizeof why), 0);
    assert_int_equal(s.n, 2); /* the null and the undated entries are skipped; sorted */
    assert_true(s.p[0].g == 310 && s.p[1].g == 299 && s.p[1].t0 == 1777140000.0 + 3600);
    ct__iseries_free(&s);

    const char *hist =
        "{\"zone\":\"DE\",\"history\":[{\"carbonIntensity\":501,\"datetime\":\"2026-04-25T17:00:00.000Z\"}]}";
    assert_int_equal(ct__em_parse_list(hist, strlen(hist), "history", &s, why, sizeof why), 0);
    assert_true(s.n == 1 && s.p[0].g == 501);
    ct__iseries_free(&s);

    const char *empty = "{\"zone\":\"DE\",\"forecast\":[]}";
    assert_int_equal(ct__em_parse_list(empty, strlen(empty), "forecast", &s, why, sizeof why), CT_ENODATA);
    assert_string_equal(why, "Electricity Maps: the forecast list has no usable values");
    const char *nulls = "{\"forecast\":[{\"datetime\":null,\"carbonIntensity\":null}]}";
    assert_int_equal(ct__em_parse_list(nulls, strlen(nulls), "forecast", &s, why, sizeof why), CT_ENODATA);
    const char *missing = "{\"zone\":\"DE\"}";
    assert_int_equal(ct__em_parse_list(missing, strlen(missing), "forecast", &s, why, sizeof why), CT_EPARSE);
    assert_string_equal(why, "Electricity Maps: no \"forecast\" list in the answer");
    const char *obj = "{\"forecast\":{\"datetime\":\"2026-04-25T19:00:00.000Z\",\"carbonIntensity\":1}}";
    assert_int_equal(ct__em_parse_list(obj, strlen(obj), "forecast", &s, why, sizeof why), CT_EPARSE);
    assert_int_equal(s.n, 0);
}

/* UK: now = 2018-01-20T12:10Z, inside the first period. */
#define UK_NOW (1516449600.0 + 600)

static void test_ukgrid_national(void **state) {
    (void)state;
    ct__iseries m = {0}, f = {0};
    char why[512] = "";
    const char *doc = "{\"data\":[{\"from\":\"2018-01-20T12:00Z\",\"to\":\"2018-01-20T12:30Z\","
                      "\"intensity\":{\"forecast\":266,\"actual\":263,\"index\":\"moderate\"}},"
                      "{\"from\":\"2018-01-20T12:30Z\",\"to\":\"2018-01-20T13:00Z\","
                      "\"intensity\":{\"forecast\":250,\"actual\":null,\"index\":\"moderate\"}}]}";
    assert_int_equal(ct__ukgrid_parse(doc, strlen(doc), UK_NOW, &m, &f, why, sizeof why), 0);
    assert_int_equal(m.n, 1);
    assert_true(m.p[0].g == 263 && m.p[0].t0 == 1516449600.0 && m.p[0].t1 == 1516449600.0 + 1800);
    assert_int_equal(f.n, 1);
    assert_true(f.p[0].g == 250 && f.p[0].t0 == 1516449600.0 + 1800);
    ct__iseries_free(&m);
    ct__iseries_free(&f);

    /* current period with a null actual: its forecast is the current value */
    const char *cur = "{\"data\":[{\"from\":\"2018-01-20T12:00Z\",\"to\":\"2018-01-20T12:30Z\","
                      "\"intensity\":{\"forecast\":266,\"actual\":null,\"index\":\"moderate\"}}]}";
    assert_int_equal(ct__ukgrid_parse(cur, strlen(cur), UK_NOW, &m, &f, why, sizeof why), 0);
    assert_true(m.n == 1 && m.p[0].g == 266 && f.n == 0);
    ct__iseries_free(&m);
}

static void test_ukgrid_regional_list_and_object(void **state) {
    (void)state;
    ct__iseries m = {0}, f = {0};
    char why[512] = "";
    const char *list = "{\"data\":[{\"regionid\":3,\"shortname\":\"South England\",\"postcode\":\"RG10\",\"data\":["
                       "{\"from\":\"2018-01-20T12:00Z\",\"to\":\"2018-01-20T12:30Z\",\"intensity\":{\"forecast\":180,"
                       "\"index\":\"moderate\"},"
                       "\"generationmix\":[{\"fuel\":\"gas\",\"perc\":40}]}]}]}";
    assert_int_equal(ct__ukgrid_parse(list, strlen(list), UK_NOW, &m, &f, why, sizeof why), 0);
    assert_true(m.n == 1 && m.p[0].g == 180 && f.n == 0);
    ct__iseries_free(&m);

    const char *object = "{\"data\":{\"regionid\":3,\"shortname\":\"South England\",\"postcode\":\"RG10\",\"data\":["
                         "{\"from\":\"2018-01-20T12:00Z\",\"to\":\"2018-01-20T12:30Z\",\"intensity\":{\"forecast\":200,"
                         "\"index\":\"low\"}},"
                         "{\"from\":\"2018-01-20T12:30Z\",\"to\":\"2018-01-20T13:00Z\",\"intensity\":{\"forecast\":50,"
                         "\"index\":\"low\"}}]}}";
    assert_int_equal(ct__ukgrid_parse(object, strlen(object), UK_NOW, &m, &f, why, sizeof why), 0);
    assert_true(m.n == 1 && m.p[0].g == 200);
    assert_true(f.n == 1 && f.p[0].g == 50);
    ct__iseries_free(&m);
    ct__iseries_free(&f);
}

static void test_ukgrid_bad(void **state) {
    (void)state;
    ct__iseries m = {0}, f = {0};
    char why[512];
    struct {
        const char *json;
        int rc;
        const char *why;
    } bad[] = {
        {"{\"data\":[]}", CT_ENODATA, "UK Carbon Intensity API: the answer has no usable intensity values"},
        {"{\"data\":[{\"from\":\"2018-01-20T12:00Z\",\"to\":\"2018-01-20T12:30Z\",\"intensity\":{\"forecast\":null,"
         "\"actual\":null}}]}",
         CT_ENODATA, "UK Carbon Intensity API: the answer has no usable intensity values"},
        {"{\"data\":[{\"from\":null,\"to\":null,\"intensity\":{\"forecast\":1}}]}", CT_ENODATA,
         "UK Carbon Intensity API: the answer has no usable intensity values"},
        {"{\"data\":[{\"regionid\":3}]}", CT_ENODATA,
         "UK Carbon Intensity API: the answer has no usable intensity values"},
        {"{\"data\":[{\"regionid\":3,\"data\":[]}]}", CT_ENODATA,
         "UK Carbon Intensity API: the answer has no usable intensity values"},
        {"{\"error\":{\"code\":\"400 Bad Request\",\"message\":\"Please enter a valid postcode\"}}", CT_EPARSE,
         "UK Carbon Intensity API: no \"data\" in the answer (Please enter a valid postcode)"},
        {"{\"data\":null}", CT_EPARSE, "UK Carbon Intensity API: no \"data\" in the answer"},
        {"{\"data\":[{\"from\":\"2018-01-20T12:00Z\"", CT_EPARSE, NULL},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        why[0] = '\0';
        assert_int_equal(ct__ukgrid_parse(bad[i].json, strlen(bad[i].json), UK_NOW, &m, &f, why, sizeof why),
                         bad[i].rc);
        if (bad[i].why) assert_string_equal(why, bad[i].why);
        else assert_true(strncmp(why, "malformed JSON from UK Carbon Intensity API: ", 45) == 0);
        assert_true(m.n == 0 && f.n == 0);
    }
}

static void test_energidata(void **state) {
    (void)state;
    ct__iseries s = {0};
    char why[512] = "";
    const char *doc = "{\"total\":576,\"limit\":100,\"dataset\":\"CO2Emis\",\"records\":["
                      "{\"Minutes5UTC\":\"2023-01-01T22:55:00\",\"Minutes5DK\":\"2023-01-01T23:55:00\",\"PriceArea\":"
                      "\"DK1\",\"CO2Emission\":68.0},"
                      "{\"Minutes5UTC\":\"2023-01-01T22:55:00\",\"Minutes5DK\":\"2023-01-01T23:55:00\",\"PriceArea\":"
                      "\"DK2\",\"CO2Emission\":100.0},"
                      "{\"Minutes5UTC\":\"2023-01-01T22:50:00\",\"Minutes5DK\":\"2023-01-01T23:50:00\",\"PriceArea\":"
                      "\"DK1\",\"CO2Emission\":70.0},"
                      "{\"Minutes5UTC\":\"2023-01-01T22:50:00\",\"Minutes5DK\":\"2023-01-01T23:50:00\",\"PriceArea\":"
                      "\"DK2\",\"CO2Emission\":null},"
                      "{\"Minutes5UTC\":\"2023-01-01T22:45:00\",\"PriceArea\":\"SE3\",\"CO2Emission\":5.0}]}";
    assert_int_equal(ct__energidata_parse(doc, strlen(doc), "DK1", &s, why, sizeof why), 0);
    assert_int_equal(s.n, 2);
    assert_true(s.p[0].g == 70 && s.p[1].g == 68 && s.p[1].t0 == 1672613700.0 && s.p[1].t1 == 1672613700.0 + 300);
    ct__iseries_free(&s);
    assert_int_equal(ct__energidata_parse(doc, strlen(doc), "DK2", &s, why, sizeof why), 0);
    assert_true(s.n == 1 && s.p[0].g == 100);
    ct__iseries_free(&s);
    /* both areas: averaged per time where both are present */
    assert_int_equal(ct__energidata_parse(doc, strlen(doc), NULL, &s, why, sizeof why), 0);
    assert_int_equal(s.n, 2);
    assert_true(s.p[0].g == 70 && s.p[1].g == 84);
    ct__iseries_free(&s);

    const char *empty = "{\"total\":0,\"records\":[]}";
    assert_int_equal(ct__energidata_parse(empty, strlen(empty), "DK1", &s, why, sizeof why), CT_ENODATA);
    assert_string_equal(why, "Energi Data Service: no usable CO2Emission values for DK1");
    const char *missing = "{\"total\":0}";
    assert_int_equal(ct__energidata_parse(missing, strlen(missing), NULL, &s, why, sizeof why), CT_EPARSE);
    assert_string_equal(why, "Energi Data Service: no \"records\" list in the answer");
    assert_int_equal(ct__energidata_parse("{\"records\":[", 12, NULL, &s, why, sizeof why), CT_EPARSE);
    assert_int_equal(s.n, 0);
}

static void test_ipinfo(void **state) {
    (void)state;
    ct__location loc;
    memset(&loc, 0, sizeof loc);
    loc.lat = loc.lon = NAN;
    char why[512] = "";
    const char *doc = "{\"ip\":\"192.0.2.1\",\"city\":\"Copenhagen\",\"region\":\"Capital Region\",\"country\":\"dk\","
                      "\"loc\":\"55.6759,12.5655\",\"postal\":\"1050\"}";
    assert_int_equal(ct__ipinfo_parse(doc, strlen(doc), &loc, why, sizeof why), 0);
    assert_string_equal(loc.country, "DK");
    assert_true(fabs(loc.lat - 55.6759) < 1e-9 && fabs(loc.lon - 12.5655) < 1e-9);
    assert_string_equal(loc.origin, "country DK from IP geolocation");

    memset(&loc, 0, sizeof loc);
    const char *nocountry = "{\"ip\":\"192.0.2.1\",\"bogon\":true}";
    assert_int_equal(ct__ipinfo_parse(nocountry, strlen(nocountry), &loc, why, sizeof why), CT_ENODATA);
    assert_string_equal(why, "IP geolocation (ipinfo.io): no country in the answer");
    const char *nullc = "{\"country\":null}";
    assert_int_equal(ct__ipinfo_parse(nullc, strlen(nullc), &loc, why, sizeof why), CT_ENODATA);
    const char *longc = "{\"country\":\"DNK\"}";
    assert_int_equal(ct__ipinfo_parse(longc, strlen(longc), &loc, why, sizeof why), CT_ENODATA);
    assert_string_equal(loc.country, "");
    assert_int_equal(ct__ipinfo_parse("garbage", 7, &loc, why, sizeof why), CT_EPARSE);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_em_latest),       cmocka_unit_test(test_em_lists),
        cmocka_unit_test(test_ukgrid_national), cmocka_unit_test(test_ukgrid_regional_list_and_object),
        cmocka_unit_test(test_ukgrid_bad),      cmocka_unit_test(test_energidata),
        cmocka_unit_test(test_ipinfo),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
