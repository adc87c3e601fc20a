/*
 * test_tdp_estimate.c - the CPU estimate from TDP x packages x measured
 * utilisation, against fake /proc trees (CT_PROC_ROOT) whose /proc/stat
 * counters are scripted so that every interval's utilisation, and so the
 * energy, is known exactly. Also the TDP table lookup.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/base.h"
#include "core/core.h"
#include "intensity/intensity.h"
#include "output/format.h"
#include "sources/source.h"
#include "fake_powercap.h"

#define EPS 1e-9

/* |a - b| <= eps, with both values in the failure message (cmocka 1.1 has
 * no assert_double_equal). */
#define assert_near(a, b, eps)                                                                     \
    do {                                                                                           \
        double a_ = (a), b_ = (b);                                                                 \
        if (!(fabs(a_ - b_) <= (eps))) fail_msg("%s = %.12f, expected %.12f (+-%g)", #a, a_, b_, (double)(eps)); \
    } while (0)

/* ------------------------------------------------------------------ */
/* TDP table lookup                                                     */
/* ------------------------------------------------------------------ */

static void expect_tdp(const char *model, double tdp, const char *matched) {
    double w = -1;
    char m[256] = "";
    int rc = ct__cpu_tdp_lookup(model, &w, m, sizeof m);
    if (rc != 0) fail_msg("no TDP for \"%s\"", model);
    if (fabs(w - tdp) > 1e-9 || strcmp(m, matched) != 0)
        fail_msg("\"%s\": got %g W (\"%s\"), expected %g W (\"%s\")", model, w, m, tdp, matched);
}

static void test_lookup_known_models(void **st) {
    (void)st;
    /* /proc/cpuinfo spellings -> table entries (data/cpu-tdp.csv) */
    expect_tdp("Intel(R) Xeon(R) Gold 6130 CPU @ 2.10GHz", 125.0, "Intel Xeon Gold 6130");
    expect_tdp("Intel(R) Xeon(R) CPU E5-2690 v4 @ 2.60GHz", 135.0, "Intel Xeon E5-2690 v4");
    expect_tdp("Intel(R) Xeon(R) CPU E5-2690 v2 @ 3.00GHz", 130.0, "Intel Xeon E5-2690 v2");
    expect_tdp("Intel(R) Xeon(R) Platinum 8480+", 350.0, "Intel Xeon Platinum 8480+");
    expect_tdp("AMD EPYC 7763 64-Core Processor", 280.0, "AMD EPYC 7763");
    expect_tdp("AMD Ryzen 9 5950X 16-Core Processor", 105.0, "AMD Ryzen 9 5950X");
    expect_tdp("AMD Ryzen 7 5800H with Radeon Graphics", 45.0, "AMD Ryzen 7 5800H");
    expect_tdp("Intel(R) Core(TM) i7-8700 CPU @ 3.20GHz", 65.0, "Intel Core i7-8700");
    /* the table's own spelling, other case, extra spaces */
    expect_tdp("intel   xeon gold 6130", 125.0, "Intel Xeon Gold 6130");
    /* a suffixed model is not taken for the shorter one */
    expect_tdp("Intel(R) Xeon(R) Gold 6130T CPU @ 2.10GHz", 125.0, "Intel Xeon Gold 6130T");
    expect_tdp("Intel(R) Xeon(R) Gold 6130F CPU @ 2.10GHz", 135.0, "Intel Xeon Gold 6130F");
    /* quoted CSV names with commas */
    expect_tdp("Intel EP80579 Integrated, 1200 MHz", 19.0, "Intel EP80579 Integrated, 1200 MHz");
}

static void test_lookup_unknown_models(void **st) {
    (void)st;
    double w = -1;
    char m[64] = "x";
    assert_int_equal(ct__cpu_tdp_lookup("AMD EPYC", &w, m, sizeof m), CT_ENODATA);
    assert_int_equal(ct__cpu_tdp_lookup("Frobnicator 9000 Processor", &w, m, sizeof m), CT_ENODATA);
    assert_int_equal(ct__cpu_tdp_lookup("", &w, m, sizeof m), CT_ENODATA);
    assert_int_equal(ct__cpu_tdp_lookup("Intel(R) CPU @ 2.00GHz", &w, m, sizeof m), CT_ENODATA);
    /* a table name only inside a longer word does not count */
    assert_int_equal(ct__cpu_tdp_lookup("Xeon Gold 61300", &w, m, sizeof m), CT_ENODATA);
    assert_true(w == -1);
    assert_int_equal(ct__cpu_tdp_lookup(NULL, &w, m, sizeof m), CT_EINVAL);
}

/* ------------------------------------------------------------------ */
/* The source through its ops table                                     */
/* ------------------------------------------------------------------ */

typedef struct notices {
    int count[2];
    char last[2][2048];
} notices;

static void on_notice(void *user, int level, const char *msg) {
    notices *n = user;
    int l = level >= 1 ? 1 : 0;
    n->count[l]++;
    snprintf(n->last[l], sizeof n->last[l], "%s", msg);
}

typedef struct src {
    ct_config cfg;
    ct__source_ctx ctx;
    notices notes;
    void *state;
    char why[CT__MSG_LEN];
} src;

static int src_open(src *s) {
    memset(s, 0, sizeof *s);
    ct_config_init(&s->cfg);
    s->cfg.epochs = 1;
    s->ctx.cfg = &s->cfg;
    s->ctx.notice = on_notice;
    s->ctx.user = &s->notes;
    return ct__source_tdp.open(&s->ctx, &s->state, s->why, sizeof s->why);
}

static void src_close(src *s) {
    if (s->state) ct__source_tdp.close(s->state);
    s->state = NULL;
}

static void make_proc(fake_tree *p, const char *model, int packages, int cpus, const fake_stat *s0) {
    assert_int_equal(fake_tree_init(p, "proc"), 0);
    if (model) assert_int_equal(fake_proc_cpuinfo(p, model, packages, cpus), 0);
    assert_int_equal(fake_proc_stat(p, s0), 0);
    setenv("CT_PROC_ROOT", p->root, 1);
}

static void test_two_sockets_scripted_utilisation(void **st) {
    (void)st;
    fake_tree p;
    fake_stat s = {.user = 1000, .nice = 10, .system = 300, .idle = 5000, .iowait = 50, .irq = 5, .softirq = 5,
                   .steal = 0, .guest = 0, .guest_nice = 0};
    make_proc(&p, "Intel(R) Xeon(R) Gold 6130 CPU @ 2.10GHz", 2, 16, &s);
    src x;
    assert_int_equal(src_open(&x), 0);
    assert_int_equal(ct__source_tdp.device_count(x.state), 1);
    ct_device_desc d;
    ct__source_tdp.describe(x.state, 0, &d);
    assert_string_equal(d.name, "cpu:0-1 (estimated)");
    assert_null(strchr(d.name, '.'));
    assert_null(strchr(d.name, ','));
    assert_string_equal(d.method, "estimate");
    assert_string_equal(d.source, "tdp");
    assert_int_equal(d.estimated, 1);
    assert_int_equal(d.lost, 0);
    assert_int_equal(d.component, CT_COMPONENT_CPU);
    assert_near(ct__source_tdp.max_read_interval(x.state), 1.0, 1e-12);
    /* the model, the table entry and the figures are said (info level) */
    assert_int_equal(x.notes.count[0], 1);
    assert_non_null(strstr(x.notes.last[0], "estimated"));
    assert_non_null(strstr(x.notes.last[0], "125 W"));
    assert_non_null(strstr(x.notes.last[0], "Intel Xeon Gold 6130"));
    assert_non_null(strstr(x.notes.last[0], "2 package(s)"));

    /* P(100 %) = 125 W x 2 packages = 250 W. */
    double t0 = ct__monotonic_s() + 10.0, e;
    /* interval 1 (from open): idle only -> 0 % -> 0 J exactly */
    s.idle += 400;
    assert_int_equal(fake_proc_stat(&p, &s), 0);
    assert_int_equal(ct__source_tdp.read(x.state, t0, &e), 0);
    assert_near(e, 0.0, EPS);
    /* interval 2: 2 s at 25 % (busy 200 of 800 ticks) -> 250 x 0.25 x 2 = 125 J */
    s.user += 150;
    s.system += 50;
    s.idle += 600;
    assert_int_equal(fake_proc_stat(&p, &s), 0);
    assert_int_equal(ct__source_tdp.read(x.state, t0 + 2.0, &e), 0);
    assert_near(e, 125.0, EPS);
    /* no tick moved (a read < 10 ms later in real life): provisional, last
     * utilisation x time since the last interval */
    assert_int_equal(ct__source_tdp.read(x.state, t0 + 3.0, &e), 0);
    assert_near(e, 125.0 + 250.0 * 0.25 * 1.0, EPS);
    /* interval 3, 3 s from t0+2 at 90 %: user 800, nice 50, irq 30, softirq
     * 10, steal 10 busy; idle 50 + iowait 50 not busy; guest time is inside
     * user already and must not be counted twice. */
    s.user += 800;
    s.nice += 50;
    s.irq += 30;
    s.softirq += 10;
    s.steal += 10;
    s.idle += 50;
    s.iowait += 50;
    s.guest += 500;
    s.guest_nice += 20;
    assert_int_equal(fake_proc_stat(&p, &s), 0);
    assert_int_equal(ct__source_tdp.read(x.state, t0 + 5.0, &e), 0);
    assert_near(e, 125.0 + 250.0 * 0.9 * 3.0, EPS);
    /* interval 4: 100 % for 0.5 s */
    s.user += 1000;
    assert_int_equal(fake_proc_stat(&p, &s), 0);
    assert_int_equal(ct__source_tdp.read(x.state, t0 + 5.5, &e), 0);
    assert_near(e, 800.0 + 125.0, EPS);
    assert_int_equal(x.notes.count[1], 0);
    src_close(&x);
    unsetenv("CT_PROC_ROOT");
    fake_tree_destroy(&p);
}

static void test_unknown_model_uses_stated_default(void **st) {
    (void)st;
    fake_tree p;
    fake_stat s = {.user = 10, .idle = 10};
    make_proc(&p, "Frobnicator 9000 Processor", 1, 4, &s);
    src x;
    assert_int_equal(src_open(&x), 0);
    ct_device_desc d;
    ct__source_tdp.describe(x.state, 0, &d);
    assert_string_equal(d.name, "cpu:0 (estimated)");
    assert_int_equal(x.notes.count[1], 1); /* a warning: the figure is a guess */
    assert_non_null(strstr(x.notes.last[1], "\"Frobnicator 9000 Processor\" is not in the TDP table"));
    assert_non_null(strstr(x.notes.last[1], "85 W per package"));
    double t0 = ct__monotonic_s() + 10.0, e;
    s.idle += 100;
    assert_int_equal(fake_proc_stat(&p, &s), 0);
    assert_int_equal(ct__source_tdp.read(x.state, t0, &e), 0);
    s.user += 50;
    s.idle += 50;
    assert_int_equal(fake_proc_stat(&p, &s), 0);
    assert_int_equal(ct__source_tdp.read(x.state, t0 + 4.0, &e), 0);
    assert_near(e, 85.0 * 0.5 * 4.0, EPS);
    src_close(&x);
    unsetenv("CT_PROC_ROOT");
    fake_tree_destroy(&p);
}

static void test_no_cpuinfo(void **st) {
    (void)st;
    fake_tree p;
    fake_stat s = {.user = 10, .idle = 10};
    make_proc(&p, NULL, 0, 0, &s);
    src x;
    assert_int_equal(src_open(&x), 0);
    assert_int_equal(x.notes.count[1], 1);
    assert_non_null(strstr(x.notes.last[1], "no readable cpuinfo"));
    assert_non_null(strstr(x.notes.last[1], "85 W"));
    src_close(&x);
    unsetenv("CT_PROC_ROOT");
    fake_tree_destroy(&p);
}

static void expect_open_fails(const char *stat_text, int rc, const char *needle) {
    fake_tree p;
    assert_int_equal(fake_tree_init(&p, "proc"), 0);
    assert_int_equal(fake_proc_cpuinfo(&p, "AMD EPYC 7763 64-Core Processor", 1, 2), 0);
    if (stat_text) assert_int_equal(fake_tree_write(&p, "stat", stat_text), 0);
    setenv("CT_PROC_ROOT", p.root, 1);
    src x;
    int got = src_open(&x);
    if (got != rc || !strstr(x.why, needle))
        fail_msg("stat \"%s\": rc %d, why \"%s\"; expected rc %d and \"%s\"", stat_text ? stat_text : "(none)", got,
                 x.why, rc, needle);
    assert_null(x.state);
    unsetenv("CT_PROC_ROOT");
    fake_tree_destroy(&p);
}

static void test_malformed_stat_fails_clearly(void **st) {
    (void)st;
    expect_open_fails(NULL, CT_ENOSOURCE, "CPU utilisation is unknown");
    expect_open_fails("", CT_EPARSE, "is empty");
    expect_open_fails("garbage\n", CT_EPARSE, "does not start with the aggregate \"cpu\" line");
    expect_open_fails("cpu0 1 2 3 4\n", CT_EPARSE, "aggregate");
    expect_open_fails("cpu  1 2 3\n", CT_EPARSE, "has 3 fields, at least 4");
    expect_open_fails("cpu  1 2 x 4 5\n", CT_EPARSE, "field 3 of the \"cpu\" line is not a number: \"x\"");
    expect_open_fails("cpu  1 2 -3 4 5\n", CT_EPARSE, "field 3");
    expect_open_fails("cpu  1 99999999999999999999999 3 4\n", CT_EPARSE, "field 2");
    expect_open_fails("cpu  18446744073709551615 18446744073709551615 3 4\n", CT_EPARSE, "overflows");
}

/* /proc/stat turning to garbage mid-run: the source fails as a whole, its
 * one device is marked lost and keeps its energy, one warning. */
static void test_malformed_stat_mid_run(void **st) {
    (void)st;
    fake_tree p;
    fake_stat s = {.user = 0, .idle = 100};
    make_proc(&p, "AMD EPYC 7763 64-Core Processor", 1, 2, &s);
    src x;
    assert_int_equal(src_open(&x), 0);
    double t0 = ct__monotonic_s() + 10.0, e;
    s.idle += 100;
    assert_int_equal(fake_proc_stat(&p, &s), 0);
    assert_int_equal(ct__source_tdp.read(x.state, t0, &e), 0);
    s.user += 100; /* 100 % for 1 s: 280 J */
    assert_int_equal(fake_proc_stat(&p, &s), 0);
    assert_int_equal(ct__source_tdp.read(x.state, t0 + 1.0, &e), 0);
    assert_near(e, 280.0, EPS);
    assert_int_equal(fake_tree_write(&p, "stat", "cpu  garbage\n"), 0);
    assert_int_not_equal(ct__source_tdp.read(x.state, t0 + 2.0, &e), 0);
    assert_near(e, 280.0, EPS);
    ct_device_desc d;
    ct__source_tdp.describe(x.state, 0, &d);
    assert_int_equal(d.lost, 1);
    assert_int_not_equal(ct__source_tdp.read(x.state, t0 + 3.0, &e), 0);
    assert_near(e, 280.0, EPS);
    assert_int_equal(x.notes.count[1], 1);
    assert_non_null(strstr(x.notes.last[1], "malformed"));
    src_close(&x);
    unsetenv("CT_PROC_ROOT");
    fake_tree_destroy(&p);
}

/* ------------------------------------------------------------------ */
/* End to end: no RAPL, so the tracker uses the estimate               */
/* ------------------------------------------------------------------ */

static void sleep_s(double s) {
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

static void test_e2e_estimate_when_no_rapl(void **st) {
    (void)st;
    fake_tree empty;
    assert_int_equal(fake_tree_init(&empty, "rapl"), 0);
    setenv("CT_POWERCAP_ROOT", empty.root, 1);
    fake_tree p;
    fake_stat s = {.user = 1000, .idle = 1000};
    make_proc(&p, "Intel(R) Xeon(R) Gold 6130 CPU @ 2.10GHz", 2, 8, &s);

    ct_config cfg;
    ct_config_init(&cfg);
    cfg.epochs = 2;
    cfg.components = "cpu";
    cfg.verbose = 0;
    cfg.carbon_intensity = 100.0;
    ct_tracker *tr = NULL;
    int rc = ct_tracker_new(&cfg, &tr);
    if (rc) fail_msg("ct_tracker_new: %s", ct_last_error_message());
    ct_device_desc d;
    assert_int_equal(ct_device_count(tr), 1);
    assert_int_equal(ct_get_device(tr, 0, &d), 0);
    assert_string_equal(d.name, "cpu:0-1 (estimated)");
    assert_string_equal(d.source, "tdp");
    assert_int_equal(d.estimated, 1);

    /* Utilisation 40 % in every interval (any read timing gives the same
     * answer): epoch energy = 250 W x 0.4 x epoch duration. */
    s.user += 40;
    s.idle += 60;
    assert_int_equal(fake_proc_stat(&p, &s), 0);
    assert_int_equal(ct_epoch_start(tr), 0);
    sleep_s(0.3);
    s.user += 400;
    s.idle += 600;
    assert_int_equal(fake_proc_stat(&p, &s), 0);
    assert_int_equal(ct_epoch_end(tr), 0);
    ct_epoch_info ep;
    assert_int_equal(ct_get_epoch(tr, 0, &ep), 0);
    double expect = 250.0 * 0.4 * ep.duration_s;
    assert_true(ep.duration_s >= 0.3);
    /* duration_s is from the wall clock, the source integrates on the
     * monotonic clock: they agree to well under a millisecond here. */
    if (fabs(ep.energy_j[CT_COMPONENT_CPU] - expect) > 250.0 * 0.4 * 1e-3)
        fail_msg("epoch energy %.6f J, expected %.6f J", ep.energy_j[CT_COMPONENT_CPU], expect);
    assert_int_equal(ct_stop(tr), 0);
    ct_result r;
    assert_int_equal(ct_get_actual(tr, &r), 0);
    assert_int_equal(r.estimated[CT_COMPONENT_CPU], 1);
    ct_tracker_free(tr);
    unsetenv("CT_PROC_ROOT");
    unsetenv("CT_POWERCAP_ROOT");
    fake_tree_destroy(&p);
    fake_tree_destroy(&empty);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lookup_known_models),
        cmocka_unit_test(test_lookup_unknown_models),
        cmocka_unit_test(test_two_sockets_scripted_utilisation),
        cmocka_unit_test(test_unknown_model_uses_stated_default),
        cmocka_unit_test(test_no_cpuinfo),
        cmocka_unit_test(test_malformed_stat_fails_clearly),
        cmocka_unit_test(test_malformed_stat_mid_run),
        cmocka_unit_test(test_e2e_estimate_when_no_rapl),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
