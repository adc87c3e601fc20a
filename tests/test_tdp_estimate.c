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
#include "sources/cpu_host.h"
#include "fake_powercap.h"
#include "test_support.h"

#define EPS 1e-9

/* |a - b| <= eps, with both values in the failure message (cmocka 1.1 has
 * no assert_double_equal). */
#define assert_near(a, b, eps)                                                                                   \
    do {                                                                                                         \
        double a_ = (a), b_ = (b);                                                                               \
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
    /* the build machine's own DMI and cgroup must not leak in */
    setenv("CT_DMI_ROOT", "/nonexistent/dmi", 1);
    setenv("CT_CGROUP_ROOT", "/nonexistent/cgroup", 1);
}

static void test_two_sockets_scripted_utilisation(void **st) {
    (void)st;
    fake_tree p;
    fake_stat s = {.user = 1000,
                   .nice = 10,
                   .system = 300,
                   .idle = 5000,
                   .iowait = 50,
                   .irq = 5,
                   .softirq = 5,
                   .steal = 0,
                   .guest = 0,
                   .guest_nice = 0};
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
    assert_non_null(strstr(x.notes.last[0], "Xeon(R) Gold 6130 CPU"));
    assert_non_null(strstr(x.notes.last[0], "quattor"));
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

/* CCF per-vCPU coefficients (data/cpu-vcpu-power.csv): the median of all
 * 27 rows (2023-05 coefficients) is the default for an unknown processor. */
#define DEFAULT_MIN_W 0.7128342245989304
#define DEFAULT_MAX_W 3.8984738056304855

/* An unknown model: the per-thread default, named for what it is (the old
 * message called 85 W per package "CodeCarbon's default"). */
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
    assert_non_null(strstr(x.notes.last[1], "\"Frobnicator 9000 Processor\" has no TDP in the CPU tables"));
    assert_non_null(strstr(x.notes.last[1], "per-thread default"));
    assert_non_null(strstr(x.notes.last[1], "median of the Cloud Carbon Footprint"));
    assert_null(strstr(x.notes.last[1], "CodeCarbon's default"));
    assert_null(strstr(x.notes.last[1], "85 W"));
    double min, max;
    ct__cpu_vcpu_default(&min, &max);
    assert_near(min, DEFAULT_MIN_W, 1e-12);
    assert_near(max, DEFAULT_MAX_W, 1e-12);
    double t0 = ct__monotonic_s() + 10.0, e1, e;
    s.idle += 100;
    assert_int_equal(fake_proc_stat(&p, &s), 0);
    assert_int_equal(ct__source_tdp.read(x.state, t0, &e1), 0);
    /* ~10 s idle since the open: the idle power of 4 threads */
    assert_true(e1 >= 4.0 * DEFAULT_MIN_W * 10.0 - EPS && e1 <= 4.0 * DEFAULT_MIN_W * 11.0);
    s.user += 50;
    s.idle += 50;
    assert_int_equal(fake_proc_stat(&p, &s), 0);
    assert_int_equal(ct__source_tdp.read(x.state, t0 + 4.0, &e), 0);
    /* then 4 s at 50 %: 4 threads x (min + 0.5 (max - min)) */
    assert_near(e - e1, 4.0 * (DEFAULT_MIN_W + 0.5 * (DEFAULT_MAX_W - DEFAULT_MIN_W)) * 4.0, 1e-9);
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
    assert_non_null(strstr(x.notes.last[1], "per-thread default"));
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
/* Real /proc/cpuinfo names (issue 10 item 2)                           */
/* ------------------------------------------------------------------ */

/* Spellings real kernels print, against the CodeCarbon TDP table. The old
 * matcher took bare AMD rows inside Intel names (i7-965: "965" 80 W; Core 2
 * 6320: Opteron "6320" 115 W), cleaned "FX(tm)-8350" to "fx -8350", and
 * missed the old Intel spellings. */
static void test_lookup_real_cpuinfo_names(void **st) {
    (void)st;
    expect_tdp("Intel(R) Core(TM) i7 CPU         965  @ 3.20GHz", 130.0, "Intel Core i7-965");
    expect_tdp("Intel(R) Core(TM)2 CPU          6320  @ 1.86GHz", 65.0, "Intel Core 2 Duo E6320");
    expect_tdp("Intel(R) Core(TM) i7 CPU         870  @ 2.93GHz", 95.0, "Intel Core i7-870");
    expect_tdp("Intel(R) Xeon(R) CPU E31230 @ 3.20GHz", 80.0, "Intel Xeon E3-1230");
    expect_tdp("Intel(R) Xeon(R) CPU E7- 4850  @ 2.00GHz", 130.0, "Intel Xeon E7-4850");
    /* tests/fixtures/cpuinfo/laptop-i5-m560 (util-linux x86_64-dell_e4310) */
    expect_tdp("Intel(R) Core(TM) i5 CPU       M 560  @ 2.67GHz", 35.0, "Intel Core i5-560M");
    double w = 0;
    char m[256] = "";
    assert_int_equal(ct__cpu_tdp_lookup("AMD FX(tm)-8350 Eight-Core Processor", &w, m, sizeof m), 0);
    assert_near(w, 125.0, EPS);
    assert_non_null(strstr(m, "FX-8350"));
}

/* First-generation Core i (Nehalem, Westmere) print "Intel(R) Core(TM) i7
 * CPU         965  @ 3.20GHz", "i5 CPU       M 460", "i7 CPU       Q 740":
 * every such row of the table is found from that spelling, never a bare AMD
 * number ("965", "750", "460" are AMD rows too). */
static void test_lookup_first_gen_core_spellings(void **st) {
    (void)st;
    const char *p = ct__data_cpu_tdp_csv;
    int rows = 0;
    while ((p = strstr(p, "\nIntel Core i")) != NULL) {
        p++;
        char name[64], suffix[8] = "";
        int gen, num;
        double tdp;
        int n = sscanf(p, "Intel Core i%d-%3d%7[A-Z],%lf", &gen, &num, suffix, &tdp);
        if (n != 4) {
            suffix[0] = '\0';
            n = sscanf(p, "Intel Core i%d-%3d,%lf", &gen, &num, &tdp) == 3 ? 4 : 0;
        }
        /* three digits and nothing after: the first generation's names */
        if (n != 4 || num < 100 || num > 999) continue;
        char check[32];
        snprintf(check, sizeof check, "Intel Core i%d-%d%s,", gen, num, suffix);
        if (strncmp(p, check, strlen(check)) != 0) continue; /* a 4-digit or other name */
        const char *letter = !suffix[0] ? "" : !strcmp(suffix, "M") ? "M " : !strcmp(suffix, "QM") ? "Q " : NULL;
        if (!letter) continue;
        snprintf(name, sizeof name, "Intel(R) Core(TM) i%d CPU       %s%d  @ 2.67GHz", gen, letter, num);
        double w = 0;
        char m[128] = "", want[64];
        snprintf(want, sizeof want, "Intel Core i%d-%d%s", gen, num, suffix);
        if (ct__cpu_tdp_lookup(name, &w, m, sizeof m) != 0 || strcmp(m, want) != 0 || fabs(w - tdp) > 1e-9)
            fail_msg("\"%s\": got %g W (\"%s\"), expected %g W (\"%s\")", name, w, m, tdp, want);
        rows++;
    }
    print_message("%d first-generation Core i names checked\n", rows);
    assert_true(rows >= 20);
}

/* Every FX row of the table is found from the spelling AMD's CPUID gives
 * ("AMD FX(tm)-8350 Eight-Core Processor"): the old code missed them all. */
static void test_lookup_every_fx_row(void **st) {
    (void)st;
    const char *p = ct__data_cpu_tdp_csv;
    int rows = 0;
    while ((p = strstr(p, "\nFX-")) != NULL) {
        p++;
        char num[32];
        double tdp;
        if (sscanf(p, "FX-%31[^,],%lf", num, &tdp) != 2) continue;
        char name[96];
        snprintf(name, sizeof name, "AMD FX(tm)-%s Eight-Core Processor", num);
        double w = 0;
        char m[128] = "";
        if (ct__cpu_tdp_lookup(name, &w, m, sizeof m) != 0 || fabs(w - tdp) > 1e-9 || !strstr(m, num))
            fail_msg("\"%s\": got %g W (\"%s\"), expected %g W", name, w, m, tdp);
        rows++;
    }
    assert_true(rows >= 21);
}

/* Cloud providers' own parts (absent from the old table) are known with
 * their microarchitecture, as /proc/cpuinfo names them. */
static void test_cloud_parts_known(void **st) {
    (void)st;
    static const struct {
        const char *model, *arch;
    } parts[] = {
        {"AMD EPYC 7B13", "zen3"},
        {"AMD EPYC 7R32", "zen2"},
        {"AMD EPYC 9R14", "zen4"},
        {"Intel(R) Xeon(R) Platinum 8481C CPU @ 2.70GHz", "sapphire rapids"},
        {"Intel(R) Xeon(R) Platinum 8488C", "sapphire rapids"},
        {"Intel(R) Xeon(R) Platinum 8259CL CPU @ 2.50GHz", "cascade lake"},
    };
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        ct_cpu_spec spec;
        if (ct__cpu_spec_lookup(parts[i].model, &spec) != 0 || strcmp(spec.arch, parts[i].arch) != 0)
            fail_msg("\"%s\": got \"%s\" (%s), expected %s", parts[i].model, spec.name, spec.arch, parts[i].arch);
    }
    double min, max;
    char m[64];
    assert_int_equal(ct__cpu_vcpu_power("zen2", "aws", &min, &max, m, sizeof m), 0);
    assert_string_equal(m, "EPYC 2nd Gen, aws");
    assert_near(max, 1.6929615162037037, 1e-12);
    assert_int_equal(ct__cpu_vcpu_power("skylake", "aws", &min, &max, m, sizeof m), 0);
    assert_string_equal(m, "Sky Lake, aws"); /* AWS spells it so */
    assert_int_equal(ct__cpu_vcpu_power("zen4", "aws", &min, &max, m, sizeof m), CT_ENODATA);
}

/* Reads a fixture file (tests/fixtures/cpuinfo/<dir>/<file>), NULL if absent. */
static char *fixture(const char *dir, const char *file) {
    char path[1024];
    snprintf(path, sizeof path, "%s/fixtures/cpuinfo/%s/%s", ts_env("CT_TEST_SOURCE_DIR"), dir, file);
    return ts_read(path);
}

/* A fake /proc from a real capture: its cpuinfo (and xen/capabilities when
 * captured), with a scripted /proc/stat; DMI from the given strings (NULL:
 * none). */
static void make_proc_fixture(fake_tree *p, fake_tree *dmi, const char *name, const char *vendor, const char *product,
                              const fake_stat *s0) {
    assert_int_equal(fake_tree_init(p, "proc"), 0);
    char *info = fixture(name, "cpuinfo");
    if (!info) fail_msg("fixture %s/cpuinfo missing", name);
    assert_int_equal(ts_write(p->root, "cpuinfo", info), 0);
    free(info);
    char *xen = fixture(name, "xen/capabilities");
    if (xen) {
        assert_int_equal(ts_write(p->root, "xen/capabilities", xen), 0);
        free(xen);
    }
    assert_int_equal(fake_proc_stat(p, s0), 0);
    setenv("CT_PROC_ROOT", p->root, 1);
    assert_int_equal(fake_tree_init(dmi, "dmi"), 0);
    if (vendor) assert_int_equal(ts_writef(dmi->root, "sys_vendor", "%s\n", vendor), 0);
    if (product) assert_int_equal(ts_writef(dmi->root, "product_name", "%s\n", product), 0);
    setenv("CT_DMI_ROOT", dmi->root, 1);
    setenv("CT_CGROUP_ROOT", "/nonexistent/cgroup", 1);
}

static void drop_fixture(fake_tree *p, fake_tree *dmi) {
    unsetenv("CT_PROC_ROOT");
    unsetenv("CT_DMI_ROOT");
    unsetenv("CT_CGROUP_ROOT");
    fake_tree_destroy(p);
    fake_tree_destroy(dmi);
}

/* Energy of 2 s at 100 % after an idle first interval (reads at t0, t0 + 2):
 * full power x 2 s plus whatever idle power the first interval had. */
static double full_load_2s(src *x, fake_tree *p, fake_stat *s, double *idle_part) {
    double t0 = ct__monotonic_s() + 1.0, e0, e;
    s->idle += 100;
    assert_int_equal(fake_proc_stat(p, s), 0);
    assert_int_equal(ct__source_tdp.read(x->state, t0, &e0), 0);
    s->user += 1000;
    assert_int_equal(fake_proc_stat(p, s), 0);
    assert_int_equal(ct__source_tdp.read(x->state, t0 + 2.0, &e), 0);
    if (idle_part) *idle_part = e0;
    return e - e0;
}

/* Hosts, 2 and 4 sockets (util-linux lscpu dumps): TDP x packages. */
static void expect_host(const char *fixture_name, double watts_full, int level, const char *needle) {
    fake_tree p, dmi;
    fake_stat s = {.user = 100, .idle = 100};
    make_proc_fixture(&p, &dmi, fixture_name, NULL, NULL, &s);
    src x;
    assert_int_equal(src_open(&x), 0);
    const char *msg = x.notes.last[level];
    if (x.notes.count[level] != 1 || !strstr(msg, needle))
        fail_msg("%s: notice \"%s\", expected \"%s\" at level %d", fixture_name, msg, needle, level);
    double e = full_load_2s(&x, &p, &s, NULL);
    if (fabs(e - 2.0 * watts_full) > 1e-6)
        fail_msg("%s: %.6f J in 2 s at 100 %%, expected %.6f J (%s)", fixture_name, e, 2.0 * watts_full, msg);
    src_close(&x);
    drop_fixture(&p, &dmi);
}

static void test_real_hosts(void **st) {
    (void)st;
    expect_host("host-4socket-x7550", 4 * 130.0, 0, "4 package(s)");
    expect_host("host-2socket-epyc7451", 2 * 180.0, 0, "2 package(s)");
    expect_host("host-2socket-e5540", 2 * 80.0, 0, "TDP 80 W");
    expect_host("laptop-i5-m560", 35.0, 0, "Intel Core i5-560M");
    expect_host("laptop-i7-1165g7", 28.0, 0, "1 package(s)");
    /* in no table: 16 hardware threads x the per-thread default */
    expect_host("host-4socket-opteron8354", 16 * DEFAULT_MAX_W, 1, "per-thread default");
}

/* A Xen guest with 8 vCPUs, each shown as its own socket (util-linux
 * x86_64-el5xen: no hypervisor flag on that kernel, /proc/xen without
 * control_d). The old estimate billed 8 x 80 W = 640 W at full load; the
 * share of the chip is 80 W / 8 threads x 8 vCPUs = 80 W. */
static void test_xen_guest_is_billed_its_share(void **st) {
    (void)st;
    fake_tree p, dmi;
    fake_stat s = {.user = 100, .idle = 100};
    make_proc_fixture(&p, &dmi, "xen-domu-e5530", NULL, NULL, &s);
    src x;
    assert_int_equal(src_open(&x), 0);
    ct_device_desc d;
    ct__source_tdp.describe(x.state, 0, &d);
    assert_string_equal(d.name, "cpu:0 (estimated)");
    assert_non_null(strstr(x.notes.last[0], "virtual machine"));
    assert_non_null(strstr(x.notes.last[0], "Xen guest"));
    assert_non_null(strstr(x.notes.last[0], "8 vCPU(s)"));
    double e = full_load_2s(&x, &p, &s, NULL);
    assert_near(e, 2.0 * 80.0, 1e-6);
    src_close(&x);
    drop_fixture(&p, &dmi);
}

/* A Google Cloud VM (hypervisor flag, 16 vCPUs of an EPYC 7B13, a part in no
 * TDP table): the Cloud Carbon Footprint GCP coefficients for EPYC 3rd Gen,
 * 0.4454 W idle to 1.8719 W busy per vCPU. The old code: 85 W "default". */
static void test_gcp_vm_per_vcpu(void **st) {
    (void)st;
    fake_tree p, dmi;
    fake_stat s = {.user = 100, .idle = 100};
    make_proc_fixture(&p, &dmi, "gcp-epyc7b13-16vcpu", "Google", "Google Compute Engine", &s);
    src x;
    assert_int_equal(src_open(&x), 0);
    assert_int_equal(x.notes.count[0], 1);
    assert_non_null(strstr(x.notes.last[0], "EPYC 3rd Gen, gcp"));
    assert_non_null(strstr(x.notes.last[0], "16 vCPU(s)"));
    double idle;
    double e = full_load_2s(&x, &p, &s, &idle);
    assert_near(e, 2.0 * 16 * 1.8719357994791666, 1e-6);
    assert_true(idle > 0); /* the idle vCPUs draw their minimum */
    src_close(&x);
    drop_fixture(&p, &dmi);
}

/* Colab: "Intel(R) Xeon(R) CPU @ 2.20GHz" names no model; CPUID family 6
 * model 79 is Broadwell, so the GCP Broadwell coefficients apply (0.7128 W
 * idle to 3.3857 W busy per vCPU). The old code: 85 W "default". */
static void test_colab_generic_name(void **st) {
    (void)st;
    fake_tree p, dmi;
    fake_stat s = {.user = 100, .idle = 100};
    make_proc_fixture(&p, &dmi, "colab-xeon-2.20ghz", "Google", "Google Compute Engine", &s);
    ct_cpu_spec spec;
    assert_int_equal(ct__cpu_spec_lookup("Intel(R) Xeon(R) CPU @ 2.20GHz", &spec), CT_ENODATA);
    src x;
    assert_int_equal(src_open(&x), 0);
    if (!strstr(x.notes.last[0], "(broadwell): Cloud Carbon Footprint per-vCPU coefficients for Broadwell, gcp"))
        fail_msg("%s", x.notes.last[0]);
    assert_near(full_load_2s(&x, &p, &s, NULL), 2.0 * 1 * 3.3857473048128344, 1e-6);
    src_close(&x);
    drop_fixture(&p, &dmi);
}

/* ARM servers have no model name: the core comes from CPU part (0xd0c =
 * Neoverse-N1). Alone it is in no table (per-thread default); on AWS (DMI
 * "Amazon EC2") it is a Graviton2 with its own coefficients. */
static void test_arm_without_model_name(void **st) {
    (void)st;
    fake_tree p, dmi;
    fake_stat s = {.user = 100, .idle = 100};
    make_proc_fixture(&p, &dmi, "oracle-a1-neoverse-n1", NULL, NULL, &s);
    src x;
    assert_int_equal(src_open(&x), 0);
    assert_non_null(strstr(x.notes.last[1], "ARM Neoverse-N1"));
    assert_near(full_load_2s(&x, &p, &s, NULL), 2.0 * 2 * DEFAULT_MAX_W, 1e-6);
    src_close(&x);
    drop_fixture(&p, &dmi);

    make_proc_fixture(&p, &dmi, "oracle-a1-neoverse-n1", "Amazon EC2", "c6g.large", &s);
    assert_int_equal(src_open(&x), 0);
    assert_non_null(strstr(x.notes.last[0], "AWS Graviton2 (Neoverse-N1)"));
    assert_non_null(strstr(x.notes.last[0], "Graviton2, aws"));
    assert_near(full_load_2s(&x, &p, &s, NULL), 2.0 * 2 * 1.6929615162037037, 1e-6);
    src_close(&x);
    drop_fixture(&p, &dmi);
}

/* ARM cores by CPU part, and the Graviton generation on AWS. */
static void test_arm_parts(void **st) {
    (void)st;
    static const struct {
        unsigned impl, part;
        const char *provider, *arch;
    } cases[] = {
        {0x41, 0xd0c, "", "Neoverse-N1"},  {0x41, 0xd40, "", "Neoverse-V1"},
        {0x41, 0xd4f, "", "Neoverse-V2"},  {0x41, 0xd0c, "aws", "Graviton2"},
        {0x41, 0xd40, "aws", "Graviton3"}, {0x41, 0xd4f, "aws", "Graviton4"},
        {0xc0, 0xac3, "", "AmpereOne"},    {0x41, 0xfff, "", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ct_cpu_host h;
        memset(&h, 0, sizeof h);
        h.arm_implementer = cases[i].impl;
        h.arm_part = cases[i].part;
        snprintf(h.provider, sizeof h.provider, "%s", cases[i].provider);
        assert_string_equal(ct__cpu_arch_from_id(&h), cases[i].arch);
    }
}

/* The 8-vCPU VM of the issue: a Xeon Gold 6326 (185 W, 16 cores, 32
 * threads, quattor template) with every vCPU its own socket and the
 * hypervisor flag: 185 / 32 x 8 = 46.25 W at full load, not 1,480 W. */
static void test_vm_gold_6326_share(void **st) {
    (void)st;
    fake_tree p, dmi;
    fake_stat s = {.user = 100, .idle = 100};
    assert_int_equal(fake_tree_init(&p, "proc"), 0);
    assert_int_equal(fake_proc_cpuinfo(&p, "Intel(R) Xeon(R) Gold 6326 CPU @ 2.90GHz", 8, 8), 0);
    /* the fake cpuinfo has no hypervisor flag: DMI of a KVM guest says it */
    assert_int_equal(fake_proc_stat(&p, &s), 0);
    setenv("CT_PROC_ROOT", p.root, 1);
    assert_int_equal(fake_tree_init(&dmi, "dmi"), 0);
    assert_int_equal(ts_write(dmi.root, "sys_vendor", "QEMU\n"), 0);
    assert_int_equal(ts_write(dmi.root, "product_name", "Standard PC (Q35 + ICH9, 2009)\n"), 0);
    setenv("CT_DMI_ROOT", dmi.root, 1);
    setenv("CT_CGROUP_ROOT", "/nonexistent/cgroup", 1);
    src x;
    assert_int_equal(src_open(&x), 0);
    assert_non_null(strstr(x.notes.last[0], "DMI"));
    if (!strstr(x.notes.last[0], "32 hardware threads")) fail_msg("%s", x.notes.last[0]);
    assert_near(full_load_2s(&x, &p, &s, NULL), 2.0 * 185.0 / 32.0 * 8.0, 1e-6);
    src_close(&x);
    drop_fixture(&p, &dmi);
}

/* ------------------------------------------------------------------ */
/* Containers: billed for the cgroup's CPU time                          */
/* ------------------------------------------------------------------ */

/* cgroup v2 (a container with its own cgroup namespace: "0::/"), limited to
 * 2 CPUs by cpu.max on a 16-thread, 2 x 80 W host: 10 W per busy CPU x the
 * cgroup's own CPU time, whatever the host's utilisation. */
static void test_cgroup_v2_limited(void **st) {
    (void)st;
    fake_tree p, dmi, cg;
    fake_stat s = {.user = 100, .idle = 100};
    make_proc_fixture(&p, &dmi, "host-2socket-e5540", NULL, NULL, &s);
    assert_int_equal(ts_write(p.root, "self/cgroup", "0::/\n"), 0);
    assert_int_equal(fake_tree_init(&cg, "cgroup"), 0);
    assert_int_equal(ts_write(cg.root, "cpu.max", "200000 100000\n"), 0);
    assert_int_equal(ts_write(cg.root, "cpuset.cpus.effective", "0-15\n"), 0);
#define CPU_STAT_FMT                                                                                            \
    "usage_usec %d\nuser_usec %d\nsystem_usec 0\nnr_periods 0\nnr_throttled 0\nthrottled_usec 0\nnr_bursts 0\n" \
    "burst_usec 0\n"
    assert_int_equal(ts_writef(cg.root, "cpu.stat", CPU_STAT_FMT, 5000000, 5000000), 0);
    setenv("CT_CGROUP_ROOT", cg.root, 1);
    src x;
    assert_int_equal(src_open(&x), 0);
    if (!strstr(x.notes.last[0], "cgroup (v2)")) fail_msg("%s", x.notes.last[0]);
    assert_non_null(strstr(x.notes.last[0], "a CPU quota of 2 CPU(s)"));
    double t0 = ct__monotonic_s() + 1.0, e;
    /* the host is 100 % busy, the container used 3 CPU-seconds */
    s.user += 1000;
    assert_int_equal(fake_proc_stat(&p, &s), 0);
    assert_int_equal(ts_writef(cg.root, "cpu.stat", CPU_STAT_FMT, 8000000, 8000000), 0);
    assert_int_equal(ct__source_tdp.read(x.state, t0, &e), 0);
    assert_near(e, 3.0 * 10.0, 1e-9);
    src_close(&x);
    unsetenv("CT_CGROUP_ROOT");
    fake_tree_destroy(&cg);
    drop_fixture(&p, &dmi);
}

/* cgroup v1 (Docker: "N:cpu,cpuacct:/docker/<id>", "N:cpuset:/docker/<id>"),
 * a 1.5-CPU CFS quota: cpuacct.usage in ns. An unlimited cgroup ("max")
 * keeps the host's utilisation. */
static void test_cgroup_v1_and_unlimited(void **st) {
    (void)st;
    const char *id = "/docker/3a8b0e56d4b5a6f0c2e9d1e7f4b8c3a2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6";
    fake_tree p, dmi, cg;
    fake_stat s = {.user = 100, .idle = 100};
    make_proc_fixture(&p, &dmi, "host-2socket-e5540", NULL, NULL, &s);
    assert_int_equal(ts_writef(p.root, "self/cgroup",
                               "12:pids:%s\n11:cpuset:%s\n5:cpu,cpuacct:%s\n2:memory:%s\n1:name=systemd:%s\n", id, id,
                               id, id, id),
                     0);
    assert_int_equal(fake_tree_init(&cg, "cgroup"), 0);
    char rel[256];
    snprintf(rel, sizeof rel, "cpu,cpuacct%s/cpu.cfs_quota_us", id);
    assert_int_equal(ts_write(cg.root, rel, "150000\n"), 0);
    snprintf(rel, sizeof rel, "cpu,cpuacct%s/cpu.cfs_period_us", id);
    assert_int_equal(ts_write(cg.root, rel, "100000\n"), 0);
    snprintf(rel, sizeof rel, "cpu,cpuacct%s/cpuacct.usage", id);
    assert_int_equal(ts_write(cg.root, rel, "1000000000\n"), 0);
    snprintf(rel, sizeof rel, "cpuset%s/cpuset.cpus", id);
    assert_int_equal(ts_write(cg.root, rel, "0-15\n"), 0);
    setenv("CT_CGROUP_ROOT", cg.root, 1);
    src x;
    assert_int_equal(src_open(&x), 0);
    assert_non_null(strstr(x.notes.last[0], "cgroup (v1)"));
    assert_non_null(strstr(x.notes.last[0], "1.5 CPU(s)"));
    double t0 = ct__monotonic_s() + 1.0, e;
    snprintf(rel, sizeof rel, "cpu,cpuacct%s/cpuacct.usage", id);
    assert_int_equal(ts_write(cg.root, rel, "2500000000\n"), 0);
    assert_int_equal(ct__source_tdp.read(x.state, t0, &e), 0);
    assert_near(e, 1.5 * 10.0, 1e-9);
    src_close(&x);
    /* unlimited: quota -1, a cpuset of all 16 CPUs -> the machine's utilisation */
    snprintf(rel, sizeof rel, "cpu,cpuacct%s/cpu.cfs_quota_us", id);
    assert_int_equal(ts_write(cg.root, rel, "-1\n"), 0);
    assert_int_equal(src_open(&x), 0);
    assert_null(strstr(x.notes.last[0], "cgroup"));
    assert_near(full_load_2s(&x, &p, &s, NULL), 2.0 * 160.0, 1e-6);
    src_close(&x);
    unsetenv("CT_CGROUP_ROOT");
    fake_tree_destroy(&cg);
    drop_fixture(&p, &dmi);
}

/* Copies a file of tests/fixtures/<rel> to dir/<to>. */
static void copy_fixture(const char *rel, const char *dir, const char *to) {
    char path[1024];
    snprintf(path, sizeof path, "%s/fixtures/%s", ts_env("CT_TEST_SOURCE_DIR"), rel);
    char *text = ts_read(path);
    if (!text) fail_msg("fixture %s missing", rel);
    assert_int_equal(ts_write(dir, to, text), 0);
    free(text);
}

/* A real sandbox (the machine these tests were written on): a 2-vCPU VM of
 * an "AMD EPYC" with the model hidden (CPUID family 26: Zen 5, no CCF
 * figure, so the per-vCPU default), the hypervisor flag, and a hybrid cgroup
 * v1 with cpu and cpuacct mounted apart, no quota, a cpuset of both CPUs: not
 * limited, so the machine's utilisation counts. The same tree with a quota of
 * half a CPU (the one edit) is billed its cpuacct.usage. */
static void test_real_sandbox_cgroup_v1(void **st) {
    (void)st;
    fake_tree p, dmi, cg;
    fake_stat s = {.user = 100, .idle = 100};
    make_proc_fixture(&p, &dmi, "vm-amd-epyc-zen5-2vcpu", NULL, NULL, &s);
    copy_fixture("cgroup/v1-hybrid-sandbox/proc/self/cgroup", p.root, "self/cgroup");
    assert_int_equal(fake_tree_init(&cg, "cgroup"), 0);
    static const char *const files[] = {"cpu/cpu.cfs_quota_us",
                                        "cpu/cpu.cfs_period_us",
                                        "cpu/cpu.shares",
                                        "cpu/cpu.stat",
                                        "cpuacct/cpuacct.usage",
                                        "cpuacct/cpuacct.stat",
                                        "cpuacct/cpuacct.usage_percpu",
                                        "cpuset/cpuset.cpus",
                                        "cpuset/cpuset.effective_cpus"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char rel[256];
        snprintf(rel, sizeof rel, "cgroup/v1-hybrid-sandbox/sys/fs/cgroup/%s", files[i]);
        copy_fixture(rel, cg.root, files[i]);
    }
    setenv("CT_CGROUP_ROOT", cg.root, 1);
    ct_cgroup_cpu c;
    assert_int_equal(ct__cgroup_cpu_open(&c, 2), 0);
    assert_int_equal(c.version, 1);
    assert_int_equal(c.cpuset_cpus, 2);
    assert_true(c.quota_cpus == 0);
    assert_int_equal(c.limited, 0);
    double used;
    assert_int_equal(ct__cgroup_cpu_usage(&c, &used), 0);
    assert_near(used, 2864.694203334, 1e-9);
    src x;
    assert_int_equal(src_open(&x), 0);
    assert_int_equal(x.notes.count[1], 1); /* the default stands in: a warning */
    assert_non_null(strstr(x.notes.last[1], "hypervisor flag"));
    assert_non_null(strstr(x.notes.last[1], "2 vCPU(s) of \"AMD EPYC\""));
    assert_null(strstr(x.notes.last[1], "cgroup"));
    assert_near(full_load_2s(&x, &p, &s, NULL), 2.0 * 2 * DEFAULT_MAX_W, 1e-6);
    src_close(&x);
    /* half a CPU of quota: limited, billed its own CPU time */
    assert_int_equal(ts_write(cg.root, "cpu/cpu.cfs_quota_us", "50000\n"), 0);
    memset(&x.notes, 0, sizeof x.notes);
    assert_int_equal(src_open(&x), 0);
    assert_non_null(strstr(x.notes.last[1], "cgroup (v1) limited to a CPU quota of 0.5 CPU(s)"));
    double t0 = ct__monotonic_s() + 1.0, e;
    assert_int_equal(ts_write(cg.root, "cpuacct/cpuacct.usage", "2866194203334\n"), 0); /* +1.5 s */
    assert_int_equal(ct__source_tdp.read(x.state, t0, &e), 0);
    assert_near(e, 1.5 * DEFAULT_MAX_W, 1e-9);
    src_close(&x);
    unsetenv("CT_CGROUP_ROOT");
    fake_tree_destroy(&cg);
    drop_fixture(&p, &dmi);
}

/* ------------------------------------------------------------------ */
/* DRAM estimate: off by default, labelled when on                      */
/* ------------------------------------------------------------------ */
static void test_dram_estimate(void **st) {
    (void)st;
    fake_tree p, dmi;
    fake_stat s = {.user = 100, .idle = 100};
    make_proc_fixture(&p, &dmi, "host-2socket-e5540", NULL, NULL, &s);
    assert_int_equal(ts_write(p.root, "meminfo", "MemTotal:       16777216 kB\nMemFree:         1000 kB\n"), 0);
    unsetenv("CT_DRAM_ESTIMATE");
    src x;
    assert_int_equal(src_open(&x), 0);
    assert_int_equal(ct__source_tdp.device_count(x.state), 1);
    src_close(&x);
    setenv("CT_DRAM_ESTIMATE", "1", 1);
    assert_int_equal(src_open(&x), 0);
    assert_int_equal(ct__source_tdp.device_count(x.state), 2);
    ct_device_desc d;
    ct__source_tdp.describe(x.state, 1, &d);
    assert_string_equal(d.name, "dram (estimated)");
    assert_int_equal(d.estimated, 1);
    assert_string_equal(d.method, "estimate");
    assert_int_equal(x.notes.count[0], 2);
    assert_non_null(strstr(x.notes.last[0], "DRAM energy is estimated"));
    double e[2], t0 = ct__monotonic_s() + 1.0, a;
    assert_int_equal(ct__source_tdp.read(x.state, t0, e), 0);
    a = e[1];
    assert_int_equal(ct__source_tdp.read(x.state, t0 + 10.0, e), 0);
    assert_near(e[1] - a, 0.392 * 16.0 * 10.0, 1e-9); /* 16 GB x 0.392 W/GB x 10 s */
    src_close(&x);
    unsetenv("CT_DRAM_ESTIMATE");
    drop_fixture(&p, &dmi);
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
        cmocka_unit_test(test_lookup_real_cpuinfo_names),
        cmocka_unit_test(test_lookup_every_fx_row),
        cmocka_unit_test(test_lookup_first_gen_core_spellings),
        cmocka_unit_test(test_cloud_parts_known),
        cmocka_unit_test(test_real_hosts),
        cmocka_unit_test(test_xen_guest_is_billed_its_share),
        cmocka_unit_test(test_gcp_vm_per_vcpu),
        cmocka_unit_test(test_colab_generic_name),
        cmocka_unit_test(test_arm_without_model_name),
        cmocka_unit_test(test_arm_parts),
        cmocka_unit_test(test_vm_gold_6326_share),
        cmocka_unit_test(test_cgroup_v2_limited),
        cmocka_unit_test(test_cgroup_v1_and_unlimited),
        cmocka_unit_test(test_real_sandbox_cgroup_v1),
        cmocka_unit_test(test_dram_estimate),
        cmocka_unit_test(test_e2e_estimate_when_no_rapl),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
