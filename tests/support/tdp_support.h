/*
 * tdp_support.h - what test_tdp_estimate.c and test_tdp_lookup.c share: the
 * TDP source opened through its ops table with its notices collected, fake
 * /proc trees (scripted or from a real capture under tests/fixtures/cpuinfo)
 * and 2 s at full load.
 */
#ifndef CT_TEST_TDP_SUPPORT_H
#define CT_TEST_TDP_SUPPORT_H

#include <math.h>

#include "core/core.h"
#include "sources/source.h"
#include "fake_powercap.h"

#define EPS 1e-9

/* |a - b| <= eps, with both values in the failure message (cmocka 1.1 has
 * no assert_double_equal). */
#define assert_near(a, b, eps)                                                                                   \
    do {                                                                                                         \
        double a_ = (a), b_ = (b);                                                                               \
        if (!(fabs(a_ - b_) <= (eps))) fail_msg("%s = %.12f, expected %.12f (+-%g)", #a, a_, b_, (double)(eps)); \
    } while (0)

/* CCF per-vCPU coefficients (data/cpu-vcpu-power.csv): the median of all
 * 27 rows (2023-05 coefficients) is the default for an unknown processor. */
#define DEFAULT_MIN_W 0.7128342245989304
#define DEFAULT_MAX_W 3.8984738056304855

typedef struct notices {
    int count[2];
    char last[2][2048];
} notices;

/* Collects the source's notices into a notices (user). */
void on_notice(void *user, int level, const char *msg);

typedef struct src {
    ct_config cfg;
    ct__source_ctx ctx;
    notices notes;
    void *state;
    char why[CT__MSG_LEN];
} src;

/* Opens the TDP source (one epoch); returns its open() result. */
int src_open(src *s);
void src_close(src *s);
/* A fake /proc with a generated cpuinfo (model NULL: none) and the given
 * /proc/stat; CT_PROC_ROOT points at it, DMI and cgroup roots at nothing. */
void make_proc(fake_tree *p, const char *model, int packages, int cpus, const fake_stat *s0);
/* Reads a fixture file (tests/fixtures/cpuinfo/<dir>/<file>), NULL if absent. */
char *fixture(const char *dir, const char *file);
/* A fake /proc from a real capture: its cpuinfo (and xen/capabilities when
 * captured), with a scripted /proc/stat; DMI from the given strings (NULL:
 * none). */
void make_proc_fixture(fake_tree *p, fake_tree *dmi, const char *name, const char *vendor, const char *product,
                       const fake_stat *s0);
void drop_fixture(fake_tree *p, fake_tree *dmi);
/* Energy of 2 s at 100 % after an idle first interval (reads at t0, t0 + 2):
 * full power x 2 s plus whatever idle power the first interval had. */
double full_load_2s(src *x, fake_tree *p, fake_stat *s, double *idle_part);

#endif
