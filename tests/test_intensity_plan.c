/* Issue 4: the pure parts of live intensity: the piecewise-constant series,
 * ISO 8601 times, and the planner's window search, against known series. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "intensity/providers/providers.h"

#define H 3600.0

/* Hourly series from t=0 with the given values. */
static void hourly(ct__iseries *s, const double *g, int n) {
    memset(s, 0, sizeof *s);
    for (int i = 0; i < n; i++) assert_int_equal(ct__iseries_add(s, i * H, (i + 1) * H, g[i]), 0);
}

static void test_iso8601(void **state) {
    (void)state;
    double t;
    assert_int_equal(ct__parse_iso8601("2018-01-20T12:00Z", &t), 0);
    assert_true(t == 1516449600.0);
    assert_int_equal(ct__parse_iso8601("2026-04-25T18:00:00.000Z", &t), 0);
    assert_true(t == 1777140000.0);
    assert_int_equal(ct__parse_iso8601("2026-04-25T18:00:00.250Z", &t), 0);
    assert_true(fabs(t - 1777140000.25) < 1e-6);
    assert_int_equal(ct__parse_iso8601("2023-01-01T22:55:00", &t), 0); /* Energi Data Service: UTC without Z */
    assert_true(t == 1672613700.0);
    assert_int_equal(ct__parse_iso8601("2026-04-25T18:00:00+02:00", &t), 0);
    assert_true(t == 1777132800.0);
    assert_int_equal(ct__parse_iso8601("2026-04-25T18:00:00+00:00", &t), 0);
    assert_true(t == 1777140000.0);
    const char *bad[] = {"",
                         "garbage",
                         "2018-13-01T00:00Z",
                         "2018-01-20T25:00Z",
                         "2018-01-20T12:00Zjunk",
                         "2018-1-20T12:00Z",
                         "2018-01-20T12",
                         "2018-01-20T12:00:00.Z",
                         NULL};
    for (int i = 0; bad[i]; i++) assert_int_equal(ct__parse_iso8601(bad[i], &t), CT_EPARSE);
    assert_int_equal(ct__parse_iso8601(NULL, &t), CT_EPARSE);

    char buf[32];
    ct__format_iso8601(1777140000.9, buf, sizeof buf);
    assert_string_equal(buf, "2026-04-25T18:00:00Z");
    ct__format_iso8601_minutes(1516449600.0, buf, sizeof buf);
    assert_string_equal(buf, "2018-01-20T12:00Z");
}

static void test_series_normalize_find_mean(void **state) {
    (void)state;
    ct__iseries s = {0};
    /* out of order, a duplicate time (DK1 + DK2 -> averaged), an overlap, junk values ignored */
    ct__iseries_add(&s, 2 * H, 3 * H, 300);
    ct__iseries_add(&s, 0, H, 100);
    ct__iseries_add(&s, 0, H, 200);
    ct__iseries_add(&s, H, 2.5 * H, 400);   /* overlaps the next: trimmed to 2H */
    ct__iseries_add(&s, 5 * H, 4 * H, 10);  /* t1 < t0: ignored */
    ct__iseries_add(&s, 6 * H, 7 * H, -1);  /* negative: ignored */
    ct__iseries_add(&s, 6 * H, 7 * H, NAN); /* NaN: ignored */
    ct__iseries_normalize(&s);
    assert_int_equal(s.n, 3);
    assert_true(s.p[0].g == 150 && s.p[0].t0 == 0 && s.p[0].t1 == H);
    assert_true(s.p[1].g == 400 && s.p[1].t1 == 2 * H);
    assert_true(s.p[2].g == 300);
    assert_int_equal(ct__iseries_find(&s, 0), 0);
    assert_int_equal(ct__iseries_find(&s, H - 1), 0);
    assert_int_equal(ct__iseries_find(&s, H), 1);
    assert_int_equal(ct__iseries_find(&s, 3 * H), -1);
    assert_int_equal(ct__iseries_find(&s, -1), -1);
    double cov;
    /* [0.5H, 2.5H]: 0.5H x 150 + 1H x 400 + 0.5H x 300 = 75 + 400 + 150 = 625 over 2H */
    assert_true(fabs(ct__iseries_mean(&s, 0.5 * H, 2.5 * H, &cov) - 312.5) < 1e-9);
    assert_true(fabs(cov - 2 * H) < 1e-9);
    /* partly outside: only the covered hour counts */
    assert_true(fabs(ct__iseries_mean(&s, 2 * H, 10 * H, &cov) - 300) < 1e-9);
    assert_true(fabs(cov - H) < 1e-9);
    assert_true(ct__iseries_mean(&s, 20 * H, 30 * H, &cov) == 0 && cov == 0);
    ct__iseries_free(&s);
    assert_null(s.p);
}

static void test_timeline_joins_measured_and_forecast(void **state) {
    (void)state;
    ct__iseries m = {0}, f = {0}, tl = {0};
    ct__iseries_add(&m, 0, 300, 120);            /* measured 5 minutes */
    ct__iseries_add(&f, 0, H, 999);              /* overlaps the measurement: kept from where it ends */
    ct__iseries_add(&f, 1200, H, 200);           /* starts 20 minutes later (the 999 point is trimmed to it) */
    ct__iseries_add(&f, 3 * H, 4 * H, 50);       /* 2 h gap: kept */
    ct__iseries_add(&f, 4 * H + 600, 5 * H, 70); /* 10-minute gap: closed */
    assert_int_equal(ct__iseries_timeline(&m, &f, 3600, &tl), 0);
    assert_int_equal(tl.n, 5);
    assert_true(tl.p[0].t0 == 0 && tl.p[0].t1 == 300 && tl.p[0].g == 120);
    assert_true(tl.p[1].t0 == 300 && tl.p[1].t1 == 1200 && tl.p[1].g == 999);
    assert_true(tl.p[2].t0 == 1200 && tl.p[2].t1 == H && tl.p[2].g == 200);
    assert_true(tl.p[3].t0 == 3 * H && tl.p[3].t1 == 4 * H + 600 && tl.p[3].g == 50);
    assert_true(tl.p[4].t0 == 4 * H + 600 && tl.p[4].g == 70);
    ct__iseries_free(&m);
    ct__iseries_free(&f);
    ct__iseries_free(&tl);
}

static void test_plan_known_series(void **state) {
    (void)state;
    double g[48];
    for (int i = 0; i < 48; i++) g[i] = (i >= 3 && i <= 8) ? 150 : 400;
    ct__iseries s;
    hourly(&s, g, 48);
    ct__plan_window w;
    char why[256];

    assert_int_equal(ct__plan_best_window(&s, 0, 6 * H, 0, &w, why, sizeof why), 0);
    assert_true(w.start == 3 * H && w.end == 9 * H);
    assert_true(fabs(w.mean_g - 150) < 1e-9);
    assert_true(fabs(w.now_mean_g - 275) < 1e-9); /* (3 x 400 + 3 x 150) / 6 */
    assert_true(w.horizon_end == 48 * H);

    /* now in the middle of the first hour */
    assert_int_equal(ct__plan_best_window(&s, 0.5 * H, 6 * H, 48 * H, &w, why, sizeof why), 0);
    assert_true(w.start == 3 * H);
    assert_true(fabs(w.now_mean_g - (2.5 * 400 + 3.5 * 150) / 6) < 1e-9);

    /* must start within 1 h: the best is to start at 1 h, (2 x 400 + 4 x 150) / 6 */
    assert_int_equal(ct__plan_best_window(&s, 0, 6 * H, 1 * H, &w, why, sizeof why), 0);
    assert_true(w.start == 1 * H);
    assert_true(fabs(w.mean_g - (2 * 400 + 4 * 150) / 6.0) < 1e-9);

    /* longer than the forecast */
    assert_int_equal(ct__plan_best_window(&s, 0, 49 * H, 0, &w, why, sizeof why), CT_ENODATA);
    assert_string_equal(why, "the forecast covers 48.0 h from now, less than the 49.0 h asked for");
    /* exactly the forecast */
    assert_int_equal(ct__plan_best_window(&s, 0, 48 * H, 0, &w, why, sizeof why), 0);
    assert_true(w.start == 0);
    /* now after the end */
    assert_int_equal(ct__plan_best_window(&s, 50 * H, H, 0, &w, why, sizeof why), CT_ENODATA);
    assert_string_equal(why, "the forecast does not cover the present");
    assert_int_equal(ct__plan_best_window(&s, 0, 0, 0, &w, why, sizeof why), CT_EINVAL);
    ct__iseries_free(&s);
}

static void test_plan_boundary_end_and_ties(void **state) {
    (void)state;
    /* [500 500 100 500 500]: any 2 h window holding the 100 hour has mean 300;
     * the earliest such start is 1 h (window end on a boundary). */
    double g[] = {500, 500, 100, 500, 500};
    ct__iseries s;
    hourly(&s, g, 5);
    ct__plan_window w;
    char why[256];
    assert_int_equal(ct__plan_best_window(&s, 0, 2 * H, 0, &w, why, sizeof why), 0);
    assert_true(w.start == 1 * H);
    assert_true(fabs(w.mean_g - 300) < 1e-9);
    ct__iseries_free(&s);

    /* constant: starting now is best (ties go to the earliest) */
    double c[] = {200, 200, 200, 200};
    hourly(&s, c, 4);
    assert_int_equal(ct__plan_best_window(&s, 0.25 * H, 1.5 * H, 0, &w, why, sizeof why), 0);
    assert_true(w.start == 0.25 * H);
    assert_true(w.mean_g == 200 && w.now_mean_g == 200);
    ct__iseries_free(&s);
}

static void test_plan_gaps_and_future_start(void **state) {
    (void)state;
    ct__iseries s = {0};
    ct__iseries_add(&s, 0, 10 * H, 300);
    ct__iseries_add(&s, 14 * H, 20 * H, 10); /* after a 4 h hole: not part of the horizon */
    ct__plan_window w;
    char why[256];
    assert_int_equal(ct__plan_best_window(&s, 0, 6 * H, 0, &w, why, sizeof why), 0);
    assert_true(w.horizon_end == 10 * H && w.mean_g == 300 && w.start == 0);
    /* forecast starting 20 minutes from now: the first possible start is then */
    ct__iseries_free(&s);
    ct__iseries_add(&s, 1200, 1200 + 4 * H, 100);
    assert_int_equal(ct__plan_best_window(&s, 0, 2 * H, 0, &w, why, sizeof why), 0);
    assert_true(w.first_start == 1200 && w.start == 1200);
    ct__iseries_free(&s);
}

/* Against a brute-force scan with 1-minute steps over random series. */
static void test_plan_matches_brute_force(void **state) {
    (void)state;
    srand(12345);
    for (int trial = 0; trial < 40; trial++) {
        ct__iseries s = {0};
        double t = 0;
        int n = 5 + rand() % 40;
        for (int i = 0; i < n; i++) {
            double len = (1 + rand() % 8) * 900.0;
            ct__iseries_add(&s, t, t + len, 20 + rand() % 500);
            t += len;
        }
        double now = (rand() % 60) * 60.0;
        if (now >= t) now = 0;
        double dur = (30 + rand() % 300) * 60.0;
        if (dur > t - now) dur = t - now;
        ct__plan_window w;
        char why[256];
        assert_int_equal(ct__plan_best_window(&s, now, dur, 0, &w, why, sizeof why), 0);
        double cov, best = INFINITY;
        for (double st = now; st + dur <= t + 1e-9; st += 60) {
            double m = ct__iseries_mean(&s, st, st + dur, &cov);
            if (m < best) best = m;
        }
        double at = ct__iseries_mean(&s, w.start, w.end, &cov);
        assert_true(fabs(at - w.mean_g) < 1e-6); /* the reported mean is the window's */
        assert_true(w.mean_g <= best + 1e-6);    /* never worse than any 1-minute start */
        assert_true(w.start >= now && w.end <= t + 1e-6);
        ct__iseries_free(&s);
    }
}

static void test_scrub_secret(void **state) {
    (void)state;
    char msg[128] = "HTTP 401 (bad key s3cr3t, try s3cr3t again)";
    ct__scrub_secret(msg, sizeof msg, "s3cr3t");
    assert_string_equal(msg, "HTTP 401 (bad key ***, try *** again)");
    ct__scrub_secret(msg, sizeof msg, NULL);
    ct__scrub_secret(msg, sizeof msg, "");
    assert_string_equal(msg, "HTTP 401 (bad key ***, try *** again)");
}

/* Issue 10 item 4: a scrubber that cannot overflow or loop: 1- and
 * 2-character keys grow the text (each becomes "***"), "*" and "**" are found
 * again in their own replacement; the copy is bounded by its buffer, and a
 * key across the end of what fits never shows in part. */
static void test_scrub_bounded_single_pass(void **state) {
    (void)state;
    /* guard bytes on both sides catch a write past the buffer without ASan */
    struct {
        char before[16], buf[24], after[16];
    } g;
    memset(&g, 0x5a, sizeof g);
    const char *src = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    assert_int_equal(ct__scrub_copy(g.buf, sizeof g.buf, src, "a"), 1);
    assert_int_equal(strlen(g.buf), sizeof g.buf - 1);
    assert_int_equal(strspn(g.buf, "*"), sizeof g.buf - 1);
    for (size_t i = 0; i < 16; i++) assert_true(g.before[i] == 0x5a && g.after[i] == 0x5a);

    char out[64];
    assert_int_equal(ct__scrub_copy(out, sizeof out, "ab-ab-abab", "ab"), 0);
    assert_string_equal(out, "***-***-******");
    assert_int_equal(ct__scrub_copy(out, sizeof out, "key * and ** and ***", "*"), 0);
    assert_string_equal(out, "key *** and ****** and *********");
    assert_int_equal(ct__scrub_copy(out, sizeof out, "****", "**"), 0);
    assert_string_equal(out, "******");
    /* in place, the same bound */
    char small[12] = "a a a a a";
    ct__scrub_secret(small, sizeof small, "a");
    assert_string_equal(small, "*** *** ***");
    /* cut after scrubbing: a key straddling the end leaves no prefix */
    char cut[8];
    assert_int_equal(ct__scrub_copy(cut, sizeof cut, "xxxxxSECRET", "SECRET"), 1);
    assert_string_equal(cut, "xxxxx**");
    assert_int_equal(ct__scrub_copy(cut, sizeof cut, "xxxxxSECRET", NULL), 1);
    assert_string_equal(cut, "xxxxxSE"); /* (without a secret: a plain bounded copy) */
    assert_int_equal(ct__scrub_copy(cut, 1, "abc", "a"), 1);
    assert_string_equal(cut, "");
    assert_int_equal(ct__scrub_copy(NULL, 0, "abc", "a"), 1);
}

/* The key's page: left out of core dumps (VmFlags "dd" in smaps), zero-filled. */
static void test_secret_page_not_dumped(void **state) {
    (void)state;
    ct__secret *s = ct__secret_from("KEY-IN-ITS-PAGE");
    assert_non_null(s);
    assert_string_equal(s->key, "KEY-IN-ITS-PAGE");
    assert_null(ct__secret_from(""));
    assert_null(ct__secret_from(NULL));
    FILE *f = fopen("/proc/self/smaps", "r");
    if (!f) {
        ct__secret_free(s);
        skip();
    }
    char line[512];
    int inside = 0, dd = -1;
    unsigned long addr = (unsigned long)(uintptr_t)s;
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' ')) {
            inside = addr >= lo && addr < hi;
        } else if (inside && strncmp(line, "VmFlags:", 8) == 0) {
            dd = strstr(line, " dd") != NULL;
            break;
        }
    }
    fclose(f);
    ct__secret_free(s);
    assert_int_equal(dd, 1);
}

/* The key goes over https, or plain http to this machine (with a warning);
 * never plain http to another host, nor any other scheme. */
static void test_key_transport(void **state) {
    (void)state;
    const ct__provider *em = ct__provider_find("Electricity Maps"), *uk = ct__provider_find("UK Carbon Intensity API");
    assert_non_null(em);
    assert_non_null(uk);
    struct {
        const char *url;
        int rc, loopback;
    } cases[] = {
        {"https://api.electricitymap.org/v3", 0, 0},
        {"HTTPS://proxy.example.com:8443/em", 0, 0},
        {"http://127.0.0.1:8080", 0, 1},
        {"http://127.8.9.10/v3", 0, 1},
        {"http://localhost:99/v3", 0, 1},
        {"http://LOCALHOST", 0, 1},
        {"http://[::1]:8080/v3", 0, 1},
        {"http://user:pw@127.0.0.1:1/", 0, 1},
        {"http://api.electricitymap.org/v3", CT_EINVAL, 0},
        {"http://192.0.2.1:9", CT_EINVAL, 0},
        {"http://127.0.0.1.example.com/", CT_EINVAL, 0},
        {"http://localhost.example.com/", CT_EINVAL, 0},
        {"http://127.0.0.1@192.0.2.1/", CT_EINVAL, 0},
        {"http://[2001:db8::1]/", CT_EINVAL, 0},
        {"http://1270.0.0.1/", CT_EINVAL, 0},
        {"ftp://127.0.0.1/", CT_EINVAL, 0},
        {"127.0.0.1:8080", CT_EINVAL, 0},
        {"", CT_EINVAL, 0},
    };
    char why[512];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int lb = -5;
        why[0] = '\0';
        int rc = ct__provider_key_transport(em, cases[i].url, &lb, why, sizeof why);
        if (rc != cases[i].rc || lb != cases[i].loopback)
            fail_msg("%s: rc %d loopback %d (%s)", cases[i].url, rc, lb, why);
        if (rc) assert_non_null(strstr(why, "the Electricity Maps key is not sent"));
        /* a service without a key may use any URL */
        assert_int_equal(ct__provider_key_transport(uk, cases[i].url, &lb, why, sizeof why), 0);
        assert_int_equal(lb, 0);
    }
}

/* The table: every row says what it serves; the choice is the first row that
 * serves the location and has its key. */
static void test_provider_table(void **state) {
    (void)state;
    assert_true(ct__nproviders >= 3);
    for (int i = 0; i < ct__nproviders; i++) {
        const ct__provider *p = &ct__providers[i];
        assert_non_null(p->name);
        assert_non_null(p->url_env);
        assert_true(strncmp(p->default_base, "https://", 8) == 0);
        assert_true(p->serves != 0);
        assert_non_null(p->fetch);
        assert_ptr_equal(ct__provider_find(p->name), p);
    }
    assert_null(ct__provider_find("no such service"));
}

static const char *chosen(const ct__location *loc, int have_key, char *why, size_t whylen) {
    const ct__provider *p = ct__provider_choose(loc, have_key, why, whylen);
    return p ? p->name : "(none)";
}

static void test_provider_choice(void **state) {
    (void)state;
    ct__location loc;
    memset(&loc, 0, sizeof loc);
    loc.lat = loc.lon = NAN;
    char why[256];
    strcpy(loc.country, "GB");
    assert_string_equal(chosen(&loc, 0, why, sizeof why), "UK Carbon Intensity API");
    assert_string_equal(chosen(&loc, 1, why, sizeof why), "UK Carbon Intensity API");
    strcpy(loc.country, "DK");
    assert_string_equal(chosen(&loc, 1, why, sizeof why), "Energi Data Service");
    strcpy(loc.country, "DE");
    assert_string_equal(chosen(&loc, 1, why, sizeof why), "Electricity Maps");
    assert_null(ct__provider_choose(&loc, 0, why, sizeof why));
    assert_string_equal(why, "no live service without an Electricity Maps key outside GB and DK");
    memset(&loc, 0, sizeof loc);
    loc.lat = loc.lon = NAN;
    assert_null(ct__provider_choose(&loc, 1, why, sizeof why));
    assert_string_equal(why, "no location known");
    /* a postcode alone is the UK's */
    strcpy(loc.postcode, "RG10");
    assert_string_equal(chosen(&loc, 0, why, sizeof why), "UK Carbon Intensity API");
    loc.postcode[0] = '\0';
    strcpy(loc.zone, "US-CAL-CISO");
    assert_string_equal(chosen(&loc, 1, why, sizeof why), "Electricity Maps");
    assert_null(ct__provider_choose(&loc, 0, why, sizeof why));
    loc.zone[0] = '\0';
    loc.lat = 48.1;
    loc.lon = 11.6;
    assert_string_equal(chosen(&loc, 1, why, sizeof why), "Electricity Maps");

    /* Energi Data Service price areas */
    memset(&loc, 0, sizeof loc);
    loc.lat = loc.lon = NAN;
    assert_null(ct__energidata_area(&loc));
    strcpy(loc.zone, "DK-DK1");
    assert_string_equal(ct__energidata_area(&loc), "DK1");
    strcpy(loc.zone, "DK-DK2");
    assert_string_equal(ct__energidata_area(&loc), "DK2");
    loc.zone[0] = '\0';
    loc.lat = 56.15, loc.lon = 10.2; /* Aarhus */
    assert_string_equal(ct__energidata_area(&loc), "DK1");
    loc.lat = 55.68, loc.lon = 12.57; /* Copenhagen */
    assert_string_equal(ct__energidata_area(&loc), "DK2");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_iso8601),
        cmocka_unit_test(test_series_normalize_find_mean),
        cmocka_unit_test(test_timeline_joins_measured_and_forecast),
        cmocka_unit_test(test_plan_known_series),
        cmocka_unit_test(test_plan_boundary_end_and_ties),
        cmocka_unit_test(test_plan_gaps_and_future_start),
        cmocka_unit_test(test_plan_matches_brute_force),
        cmocka_unit_test(test_scrub_secret),
        cmocka_unit_test(test_scrub_bounded_single_pass),
        cmocka_unit_test(test_secret_page_not_dumped),
        cmocka_unit_test(test_key_transport),
        cmocka_unit_test(test_provider_table),
        cmocka_unit_test(test_provider_choice),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
