/*
 * rapl_support.h - what test_rapl.c and test_rapl_zones.c share: the RAPL
 * source opened through its ops table with its notices collected, the fake
 * 2-socket Intel server, and a tracker of the CPU alone for the end-to-end
 * tests.
 */
#ifndef CT_TEST_RAPL_SUPPORT_H
#define CT_TEST_RAPL_SUPPORT_H

#include <math.h>
#include <stdint.h>

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
#define FIX_COMMAND                                              \
    "sudo chmod o+r /sys/class/powercap/intel-rapl:*/energy_uj " \
    "/sys/class/powercap/intel-rapl:*/intel-rapl:*/energy_uj"
#define RANGE_61UJ 262143328850ull /* the common max_energy_range_uj */

typedef struct notices {
    int count[2];
    char last[2][2048];
    char all[8192];
} notices;

/* Collects the source's notices into a notices (user). */
void on_notice(void *user, int level, const char *msg);

typedef struct src {
    ct_config cfg;
    ct__source_ctx ctx;
    notices notes;
    void *state;
    char why[CT__MSG_LEN];
    int rc;
} src;

/* Opens the RAPL source (one epoch, the given rapl_zones option); returns its open() result. */
int src_open(src *s, const char *rapl_zones);
void src_close(src *s);
ct_device_desc describe(src *s, int i);
/* Reads all devices; returns the read() result. */
int read_all(src *s, double *e);
/* Reads at a given monotonic time (times after the open: the source keeps the
 * time of its last reading to tell a wrap from a reset). */
int read_at(src *s, double t, double *e);
void use_root(const fake_tree *t);

/* A 2-socket Intel server: packages, dram, core, uncore, psys, mmio; CT_POWERCAP_ROOT points at it. */
void build_server(fake_tree *t);
/* Moves the zones that must not count by large amounts. */
void move_uncounted(fake_tree *t);

/* A tracker of the CPU alone, no reads between the epochs' ends. */
ct_tracker *new_cpu_tracker(int epochs);
/* Adds the given deltas to both packages and both drams of the server, and moves the uncounted zones. */
void add_epoch_deltas(fake_tree *t, uint64_t p0, uint64_t p1, uint64_t d0, uint64_t d1);

#endif
