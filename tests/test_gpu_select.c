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
    {"1,7,0", 1, {1}, "\"7\" is not a GPU index here (4 GPUs found by NVML); as in the CUDA runtime, it and the "
                      "entries after it are ignored",
     0},
    {"0,abc,1", 1, {0}, "\"abc\"", 0},
    {"0,,1", 1, {0}, "entry \"\"", 0},
    {"GPU-1c2d3e4f-aaaa-bbbb-cccc-000000000002", 1, {2}, NULL, 0}, /* full UUID */
    {"GPU-77aa", 1, {3}, NULL, 0},                                  /* unique prefix */
    {"gpu-77AA", 1, {3}, NULL, 0},                                  /* hex case does not matter */
    {"GPU-8f3e", 0, {0}, "is a prefix of more than one GPU UUID", 0},
    {"GPU-8f3e9,GPU-8f3e2", 2, {1, 0}, NULL, 0},
    {"GPU-deadbeef", 0, {0}, "\"GPU-deadbeef\" matches no GPU UUID", 0},
    {"MIG-4a6c2f30-2222-5b2e-9a44-000000000002", 1, {2}, NULL, 1},
    {"MIG-4a6c2f30-1111-5b2e-9a44-000000000001,MIG-4a6c2f30-2222-5b2e-9a44-000000000002", 1, {2}, NULL, 1},
    {"MIG-4a6c2f30", 0, {0}, "ambiguous MIG id prefix", 0}, /* both slices: same GPU but ambiguous id */
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

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_no_gpus_and_small_buffers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
