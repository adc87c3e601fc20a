/*
 * test_sources_registry.c - the one table of energy sources: every source is
 * in it once, with the component its ops serve, and opening a component
 * tries every row of it in table order (the old open_component tried two
 * hard-coded rows per component, so a third GPU source was never tried).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "sources/source.h"

typedef struct trace {
    const char *tried[16];
    int n;
    const char *succeed; /* the one name that opens, NULL none */
    int skipped;
} trace;

static int fake_open(void *user, const ct__source_ops *ops, char *why, size_t whylen) {
    trace *t = user;
    t->tried[t->n++] = ops->name;
    if (t->succeed && strcmp(ops->name, t->succeed) == 0) return 0;
    strncpy(why, ops->name, whylen - 1);
    why[whylen - 1] = '\0';
    return CT_ENOSOURCE;
}

static void fake_skipped(void *user, const ct_source_row *row, const char *why) {
    trace *t = user;
    assert_string_equal(why, row->ops->name);
    t->skipped++;
}

static void test_table_is_consistent(void **st) {
    (void)st;
    const ct__source_ops *all[] = {&ct__source_sim_cpu, &ct__source_rapl, &ct__source_tdp,
                                   &ct__source_sim_gpu, &ct__source_nvml, &ct__source_amdgpu};
    for (size_t k = 0; k < sizeof all / sizeof all[0]; k++) {
        int seen = 0;
        for (int i = 0; i < ct__source_count; i++) {
            if (ct__sources[i].ops != all[k]) continue;
            seen++;
            assert_int_equal(ct__sources[i].component, all[k]->component);
        }
        if (seen != 1) fail_msg("source %s is in the table %d times", all[k]->name, seen);
    }
    for (int i = 0; i < ct__source_count; i++) {
        assert_non_null(ct__sources[i].ops);
        assert_non_null(ct__sources[i].ops->open);
    }
}

/* Every GPU row is tried, whatever their number; the reasons are joined. */
static void test_every_gpu_row_tried(void **st) {
    (void)st;
    trace t = {0};
    ct_source_opener op = {fake_open, fake_skipped, &t};
    char reasons[256];
    int opened = -1;
    assert_int_equal(ct__sources_open(CT_COMPONENT_GPU, 0, &op, &opened, reasons, sizeof reasons), 0);
    int gpu_rows = 0;
    for (int i = 0; i < ct__source_count; i++)
        if (ct__sources[i].component == CT_COMPONENT_GPU && !ct__sources[i].simulated) {
            assert_true(gpu_rows < t.n);
            assert_string_equal(t.tried[gpu_rows], ct__sources[i].ops->name);
            gpu_rows++;
        }
    assert_int_equal(t.n, gpu_rows);
    assert_int_equal(t.skipped, gpu_rows);
    assert_int_equal(opened, 0);
    assert_string_equal(reasons, "nvml; amdgpu");
    /* GPU rows are not exclusive: one that opens does not stop the next */
    trace u = {.succeed = "nvml"};
    op.user = &u;
    assert_int_equal(ct__sources_open(CT_COMPONENT_GPU, 0, &op, &opened, reasons, sizeof reasons), 0);
    assert_int_equal(u.n, gpu_rows);
    assert_int_equal(opened, 1);
}

/* CPU: RAPL first; the estimate only when RAPL does not open. */
static void test_cpu_exclusive_order(void **st) {
    (void)st;
    trace t = {.succeed = "rapl"};
    ct_source_opener op = {fake_open, fake_skipped, &t};
    char reasons[256];
    int opened = 0;
    assert_int_equal(ct__sources_open(CT_COMPONENT_CPU, 0, &op, &opened, reasons, sizeof reasons), 0);
    assert_int_equal(t.n, 1);
    assert_string_equal(t.tried[0], "rapl");
    assert_string_equal(reasons, "");
    trace u = {.succeed = "tdp"};
    op.user = &u;
    assert_int_equal(ct__sources_open(CT_COMPONENT_CPU, 0, &op, &opened, reasons, sizeof reasons), 0);
    assert_int_equal(u.n, 2);
    assert_string_equal(u.tried[1], "tdp");
    assert_int_equal(opened, 1);
    /* a simulation is alone */
    trace v = {.succeed = "sim-cpu"};
    op.user = &v;
    assert_int_equal(ct__sources_open(CT_COMPONENT_CPU, 1, &op, &opened, reasons, sizeof reasons), 0);
    assert_int_equal(v.n, 1);
    assert_string_equal(v.tried[0], "sim-cpu");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_is_consistent),
        cmocka_unit_test(test_every_gpu_row_tried),
        cmocka_unit_test(test_cpu_exclusive_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
