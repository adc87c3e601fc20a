/* test_gpu_select.c - CUDA_VISIBLE_DEVICES read as the CUDA runtime reads it (issue 3). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "base/base.h"
#include "core/core.h"
#include "intensity/intensity.h"
#include "output/format.h"
#include "sources/source.h"
#include "sources/gpu_select.h"
#include "sources/gpu_common.h"
#include "test_support.h"

#include <math.h>
#include <stdlib.h>
#include <unistd.h>

/* Four GPUs; GPU 2 has MIG slices with new-style ids. */
static const char *const mig2[] = {"MIG-4a6c2f30-1111-5b2e-9a44-000000000001",
                                   "MIG-4a6c2f30-2222-5b2e-9a44-000000000002"};
static const ct_gpu_ident devs[4] = {
    {"GPU-8f3e2a10-aaaa-bbbb-cccc-000000000000", NULL, 0},
    {"GPU-8f3e9b77-aaaa-bbbb-cccc-000000000001", NULL, 0},
    {"GPU-1c2d3e4f-aaaa-bbbb-cccc-000000000002", mig2, 2},
    {"GPU-77aa0000-aaaa-bbbb-cccc-000000000003", NULL, 0},
};

typedef struct sel_case {
    const char *cvd;      /* NULL = unset */
    int n;                /* expected count */
    int idx[4];           /* expected NVML indices, in order */
    const char *warn_has; /* NULL = no warning expected, else a substring of it */
    int mig;
} sel_case;

static const sel_case cases[] = {
    {NULL, 4, {0, 1, 2, 3}, NULL, 0},
    {"", 0, {0}, NULL, 0},
    {"  ", 0, {0}, NULL, 0},
    {"0", 1, {0}, NULL, 0},
    {"3,1", 2, {3, 1}, NULL, 0},
    {" 2 , 0 ", 2, {2, 0}, NULL, 0},
    {"1,1,0", 2, {1, 0}, NULL, 0},                                  /* a GPU counts once */
    {"0,", 1, {0}, NULL, 0},                                        /* trailing comma */
    {"7", 0, {0}, "entry \"7\" is not a GPU index here", 0},        /* out of range: nothing */
    {"-1", 0, {0}, "entry \"-1\" is not a GPU index, GPU UUID", 0}, /* the usual "hide all" */
    {"1,7,0",
     1,
     {1},
     "\"7\" is not a GPU index here (4 GPUs found by NVML); as in the CUDA runtime, it and the "
     "entries after it are ignored",
     0},
    {"0,abc,1", 1, {0}, "\"abc\"", 0},
    {"0,,1", 1, {0}, "entry \"\"", 0},
    {"GPU-1c2d3e4f-aaaa-bbbb-cccc-000000000002", 1, {2}, NULL, 0}, /* full UUID */
    {"GPU-77aa", 1, {3}, NULL, 0},                                 /* unique prefix */
    {"gpu-77AA", 1, {3}, NULL, 0},                                 /* hex case does not matter */
    {"GPU-8f3e", 0, {0}, "is a prefix of more than one GPU UUID", 0},
    {"GPU-8f3e9,GPU-8f3e2", 2, {1, 0}, NULL, 0},
    {"GPU-deadbeef", 0, {0}, "\"GPU-deadbeef\" matches no GPU UUID", 0},
    {"MIG-4a6c2f30-2222-5b2e-9a44-000000000002", 1, {2}, NULL, 1},
    {"MIG-4a6c2f30-1111-5b2e-9a44-000000000001,MIG-4a6c2f30-2222-5b2e-9a44-000000000002", 1, {2}, NULL, 1},
    {"MIG-4a6c2f30", 0, {0}, "ambiguous MIG id prefix", 0},                /* both slices: same GPU but ambiguous id */
    {"MIG-GPU-77aa0000-aaaa-bbbb-cccc-000000000003/1/0", 1, {3}, NULL, 1}, /* old MIG form */
    {"MIG-GPU-77aa0000/1/0", 0, {0}, "matches no MIG device", 0},
    {"MIG-00000000-0000-0000-0000-000000000000", 0, {0}, "matches no MIG device", 0},
    {"0,GPU-77aa,MIG-4a6c2f30-1111-5b2e-9a44-000000000001", 3, {0, 3, 2}, NULL, 1},
};

static void test_table(void **st) {
    (void)st;
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const sel_case *k = &cases[c];
        int out[4] = {-9, -9, -9, -9}, mig = -1;
        char warn[512];
        int n = ct__gpu_select(k->cvd, devs, 4, out, &mig, warn, sizeof warn);
        char label[256];
        snprintf(label, sizeof label, "case %zu CUDA_VISIBLE_DEVICES=%s: n=%d warn=\"%s\"", c,
                 k->cvd ? k->cvd : "(unset)", n, warn);
        if (n != k->n) fail_msg("%s, expected n=%d", label, k->n);
        for (int i = 0; i < n; i++)
            if (out[i] != k->idx[i]) fail_msg("%s: out[%d]=%d, expected %d", label, i, out[i], k->idx[i]);
        if (!k->warn_has && warn[0]) fail_msg("%s: unexpected warning", label);
        if (k->warn_has && !strstr(warn, k->warn_has)) fail_msg("%s: warning lacks \"%s\"", label, k->warn_has);
        if (mig != k->mig) fail_msg("%s: mig_named=%d, expected %d", label, mig, k->mig);
    }
}

static void test_no_gpus_and_small_buffers(void **st) {
    (void)st;
    int out[1];
    char warn[16];
    assert_int_equal(ct__gpu_select(NULL, devs, 0, out, NULL, warn, sizeof warn), 0);
    assert_int_equal(ct__gpu_select("0", devs, 0, out, NULL, warn, sizeof warn), 0);
    assert_true(strlen(warn) == sizeof warn - 1); /* truncated, still terminated */
    assert_int_equal(ct__gpu_select("0", devs, 0, out, NULL, NULL, 0), 0);
    /* A very long entry is cut, never overflows. */
    char longv[600];
    memset(longv, 'G', sizeof longv - 1);
    longv[sizeof longv - 1] = '\0';
    char w2[1024];
    assert_int_equal(ct__gpu_select(longv, devs, 4, out, NULL, w2, sizeof w2), 0);
    assert_non_null(strstr(w2, "is not a GPU index"));
}

/* The meter every GPU source shares: counters difference (a driver restart
 * counts from zero), polled power integrates by the trapezoid rule. */
static void test_gpu_meter(void **st) {
    (void)st;
    ct_gpu_meter m = {.has_counter = 1, .claimed = 1};
    ct__gpu_meter_counter(&m, 5000, 1e-3); /* no baseline yet: nothing counted */
    assert_true(m.energy_j == 0);
    ct__gpu_meter_counter(&m, 7500, 1e-3);
    assert_true(fabs(m.energy_j - 2.5) < 1e-12);
    ct__gpu_meter_counter(&m, 1000, 1e-3); /* restart: only what came after */
    assert_true(fabs(m.energy_j - 3.5) < 1e-12);
    ct_gpu_meter p = {.claimed = 1};
    ct__gpu_meter_base_power(&p, 10.0, 100.0);
    ct__gpu_meter_power(&p, 10.5, 200.0);
    assert_true(fabs(p.energy_j - 75.0) < 1e-12);
    ct__gpu_meter_power(&p, 10.4, 999.0); /* older than the last sample: ignored */
    assert_true(fabs(p.energy_j - 75.0) < 1e-12);
    ct__gpu_meter_power(&p, 11.5, 0.0);
    assert_true(fabs(p.energy_j - 175.0) < 1e-12);
    assert_true(ct__gpu_read_interval(1, 0, 2.0) == CT__GPU_POLL_INTERVAL_S);
    assert_true(ct__gpu_read_interval(0, 1, 2.0) == 2.0);
    assert_true(ct__gpu_read_interval(0, 0, 2.0) == CT__GPU_COUNTER_INTERVAL_S);
}

/* The process tree under a fake CT_PROC_ROOT: this process, a child, a
 * grandchild whose comm holds ") 1 (", and a stranger. */
static void test_proc_tree(void **st) {
    (void)st;
    char *root = ts_mkdtemp();
    int self = (int)getpid();
    ts_writef(root, "100001/stat", "100001 (child) S %d 1 1\n", self);
    ts_writef(root, "100002/stat", "100002 (evil) 1 (x) S 100001 1 1\n");
    ts_writef(root, "100003/stat", "100003 (other) S 1 1 1\n");
    assert_int_equal(ct__proc_in_tree(root, self), 1);
    assert_int_equal(ct__proc_in_tree(root, 100002), 1);
    assert_int_equal(ct__proc_in_tree(root, 100003), 0);
    assert_int_equal(ct__proc_in_tree(root, 424242), 0);
    int n = 0;
    int *tree = ct__proc_tree(root, &n);
    assert_non_null(tree);
    assert_int_equal(n, 3);
    assert_int_equal(tree[0], self);
    free(tree);
    ct_gpu_claims c;
    setenv("CT_PROC_ROOT", root, 1);
    ct__gpu_claims_init(&c, NULL, 2.0);
    assert_string_equal(c.proc_root, root);
    unsetenv("CT_PROC_ROOT");
    c.by_pid = 1;
    assert_int_equal(ct__gpu_claims_due(&c, 1, 5.0), 1);
    assert_int_equal(ct__gpu_claims_due(&c, 1, 6.0), 0); /* next at 7 */
    assert_int_equal(ct__gpu_claims_due(&c, 0, 8.0), 0); /* nothing waits */
    assert_int_equal(ct__gpu_claims_due(&c, 1, 8.0), 1);
    ts_rmtree(root);
    free(root);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gpu_meter),
        cmocka_unit_test(test_proc_tree),
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_no_gpus_and_small_buffers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
