/*
 * rapl_support.c - see rapl_support.h.
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
#include "rapl_support.h"

void on_notice(void *user, int level, const char *msg) {
    notices *n = user;
    int l = level >= 1 ? 1 : 0;
    n->count[l]++;
    snprintf(n->last[l], sizeof n->last[l], "%s", msg);
    size_t used = strlen(n->all);
    snprintf(n->all + used, sizeof n->all - used, "[%d] %s\n", l, msg);
}

int src_open(src *s, const char *rapl_zones) {
    memset(s, 0, sizeof *s);
    ct_config_init(&s->cfg);
    s->cfg.epochs = 1;
    s->cfg.rapl_zones = rapl_zones;
    s->ctx.cfg = &s->cfg;
    s->ctx.notice = on_notice;
    s->ctx.user = &s->notes;
    s->rc = ct__source_rapl.open(&s->ctx, &s->state, s->why, sizeof s->why);
    return s->rc;
}

void src_close(src *s) {
    if (s->state) ct__source_rapl.close(s->state);
    s->state = NULL;
}

ct_device_desc describe(src *s, int i) {
    ct_device_desc d;
    memset(&d, 0xAB, sizeof d);
    ct__source_rapl.describe(s->state, i, &d);
    return d;
}

int read_all(src *s, double *e) { return ct__source_rapl.read(s->state, ct__monotonic_s(), e); }

int read_at(src *s, double t, double *e) { return ct__source_rapl.read(s->state, t, e); }

void use_root(const fake_tree *t) { setenv("CT_POWERCAP_ROOT", t->root, 1); }

void build_server(fake_tree *t) {
    assert_int_equal(fake_tree_init(t, "rapl"), 0);
    assert_int_equal(fake_powercap_add_zone(t, "intel-rapl:0", "package-0", 1000000000ull, RANGE_61UJ), 0);
    assert_int_equal(fake_powercap_add_zone(t, "intel-rapl:0:0", "core", 500000000ull, RANGE_61UJ), 0);
    assert_int_equal(fake_powercap_add_zone(t, "intel-rapl:0:1", "uncore", 20000000ull, RANGE_61UJ), 0);
    assert_int_equal(fake_powercap_add_zone(t, "intel-rapl:0:2", "dram", 300000000ull, 65712999613ull), 0);
    assert_int_equal(fake_powercap_add_zone(t, "intel-rapl:1", "package-1", 2000000000ull, RANGE_61UJ), 0);
    /* dram of socket 1 at index :0, core at :1: indices mean nothing */
    assert_int_equal(fake_powercap_add_zone(t, "intel-rapl:1:0", "dram", 400000000ull, 65712999613ull), 0);
    assert_int_equal(fake_powercap_add_zone(t, "intel-rapl:1:1", "core", 700000000ull, RANGE_61UJ), 0);
    assert_int_equal(fake_powercap_add_zone(t, "intel-rapl:2", "psys", 9000000000ull, RANGE_61UJ), 0);
    assert_int_equal(fake_powercap_add_zone(t, "intel-rapl-mmio:0", "package-0", 1000000000ull, RANGE_61UJ), 0);
    use_root(t);
}

void move_uncounted(fake_tree *t) {
    assert_int_equal(fake_powercap_add(t, "intel-rapl:0:0", 11111111ull), 0);
    assert_int_equal(fake_powercap_add(t, "intel-rapl:0:1", 2222222ull), 0);
    assert_int_equal(fake_powercap_add(t, "intel-rapl:1:1", 3333333ull), 0);
    assert_int_equal(fake_powercap_add(t, "intel-rapl:2", 99999999ull), 0);
    assert_int_equal(fake_powercap_add(t, "intel-rapl-mmio:0", 55555555ull), 0);
}

ct_tracker *new_cpu_tracker(int epochs) {
    ct_config cfg;
    ct_config_init(&cfg);
    cfg.epochs = epochs;
    cfg.components = "cpu";
    cfg.verbose = 0;
    cfg.update_interval = 30.0; /* the guard interval (60 s) and this: no reads in between */
    cfg.carbon_intensity = 100.0;
    ct_tracker *tr = NULL;
    int rc = ct_tracker_new(&cfg, &tr);
    if (rc != 0) fail_msg("ct_tracker_new: %s (%s)", ct_strerror(rc), ct_last_error_message());
    return tr;
}

void add_epoch_deltas(fake_tree *t, uint64_t p0, uint64_t p1, uint64_t d0, uint64_t d1) {
    assert_int_equal(fake_powercap_add(t, "intel-rapl:0", p0), 0);
    assert_int_equal(fake_powercap_add(t, "intel-rapl:1", p1), 0);
    assert_int_equal(fake_powercap_add(t, "intel-rapl:0:2", d0), 0);
    assert_int_equal(fake_powercap_add(t, "intel-rapl:1:0", d1), 0);
    move_uncounted(t);
}
