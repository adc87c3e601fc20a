/*
 * tdp_support.c - see tdp_support.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "test_support.h"
#include "tdp_support.h"

void on_notice(void *user, int level, const char *msg) {
    notices *n = user;
    int l = level >= 1 ? 1 : 0;
    n->count[l]++;
    snprintf(n->last[l], sizeof n->last[l], "%s", msg);
}

int src_open(src *s) {
    memset(s, 0, sizeof *s);
    ct_config_init(&s->cfg);
    s->cfg.epochs = 1;
    s->ctx.cfg = &s->cfg;
    s->ctx.notice = on_notice;
    s->ctx.user = &s->notes;
    return ct__source_tdp.open(&s->ctx, &s->state, s->why, sizeof s->why);
}

void src_close(src *s) {
    if (s->state) ct__source_tdp.close(s->state);
    s->state = NULL;
}

void make_proc(fake_tree *p, const char *model, int packages, int cpus, const fake_stat *s0) {
    assert_int_equal(fake_tree_init(p, "proc"), 0);
    if (model) assert_int_equal(fake_proc_cpuinfo(p, model, packages, cpus), 0);
    assert_int_equal(fake_proc_stat(p, s0), 0);
    setenv("CT_PROC_ROOT", p->root, 1);
    /* the build machine's own DMI and cgroup must not leak in */
    setenv("CT_DMI_ROOT", "/nonexistent/dmi", 1);
    setenv("CT_CGROUP_ROOT", "/nonexistent/cgroup", 1);
}

char *fixture(const char *dir, const char *file) {
    char path[1024];
    snprintf(path, sizeof path, "%s/fixtures/cpuinfo/%s/%s", ts_env("CT_TEST_SOURCE_DIR"), dir, file);
    return ts_read(path);
}

void make_proc_fixture(fake_tree *p, fake_tree *dmi, const char *name, const char *vendor, const char *product,
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

void drop_fixture(fake_tree *p, fake_tree *dmi) {
    unsetenv("CT_PROC_ROOT");
    unsetenv("CT_DMI_ROOT");
    unsetenv("CT_CGROUP_ROOT");
    fake_tree_destroy(p);
    fake_tree_destroy(dmi);
}

double full_load_2s(src *x, fake_tree *p, fake_stat *s, double *idle_part) {
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
