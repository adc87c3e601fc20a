/*
 * gpu_common.c - the scaffolding every GPU source shares: the energy meter
 * (counter or polled power), the process tree under CT_PROC_ROOT, device
 * claiming for devices_by_pid and the read interval. See gpu_common.h.
 */
#include "sources/gpu_common.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void ct__gpu_meter_base_counter(ct_gpu_meter *m, unsigned long long raw) {
    m->last_raw = raw;
    m->have_raw = 1;
}

void ct__gpu_meter_base_power(ct_gpu_meter *m, double now_s, double watts) {
    m->last_t = now_s;
    m->last_w = watts;
    m->have_sample = 1;
}

void ct__gpu_meter_counter(ct_gpu_meter *m, unsigned long long raw, double j_per_unit) {
    unsigned long long delta = raw >= m->last_raw ? raw - m->last_raw : raw;
    if (m->have_raw) m->energy_j += (double)delta * j_per_unit;
    ct__gpu_meter_base_counter(m, raw);
}

void ct__gpu_meter_power(ct_gpu_meter *m, double now_s, double watts) {
    if (m->have_sample && now_s > m->last_t) m->energy_j += ct__trapezoid_j(m->last_t, m->last_w, now_s, watts);
    /* a sample older than the last one (clock step) does not move it back */
    if (!m->have_sample || now_s >= m->last_t) ct__gpu_meter_base_power(m, now_s, watts);
}

double ct__gpu_read_interval(int polled_alive, int waiting, double claim_check_s) {
    if (polled_alive) return CT__GPU_POLL_INTERVAL_S;
    if (waiting) return claim_check_s;
    return CT__GPU_COUNTER_INTERVAL_S;
}

void ct__gpu_claims_init(ct_gpu_claims *c, const ct__source_ctx *ctx, double interval_s) {
    memset(c, 0, sizeof *c);
    c->by_pid = ctx && ctx->cfg ? ctx->cfg->devices_by_pid : 0;
    c->interval_s = interval_s;
    const char *root = ct__env(CT__ENV_PROC_ROOT);
    ct__strlcpy(c->proc_root, root ? root : "/proc", sizeof c->proc_root);
}

int ct__gpu_claims_due(ct_gpu_claims *c, int waiting, double now_s) {
    if (!c->by_pid || !waiting || now_s < c->next_s) return 0;
    c->next_s = now_s + c->interval_s;
    return 1;
}

/* ---- the process tree ---------------------------------------------------- */

/* Parent of pid from <root>/<pid>/stat: "pid (comm) S ppid ...", where comm
 * may hold ')' and blanks, so the fields are read after the last ')'. */
static int read_ppid(const char *proc_root, const char *pid, int *ppid) {
    char path[1024], *buf = NULL;
    size_t len = 0;
    snprintf(path, sizeof path, "%s/%s/stat", proc_root, pid);
    if (ct__read_file(path, 4096, &buf, &len) != 0) return -1;
    const char *rp = strrchr(buf, ')');
    int ok = -1;
    char st;
    int pp;
    if (rp && sscanf(rp + 1, " %c %d", &st, &pp) == 2) {
        *ppid = pp;
        ok = 0;
    }
    free(buf);
    return ok;
}

int ct__proc_in_tree(const char *proc_root, int pid) {
    int self = (int)getpid();
    for (int depth = 0; depth < 256; depth++) {
        if (pid == self) return 1;
        if (pid <= 1) return 0;
        char num[16];
        int ppid;
        snprintf(num, sizeof num, "%d", pid);
        if (read_ppid(proc_root, num, &ppid) != 0 || ppid == pid) return 0;
        pid = ppid;
    }
    return 0;
}

static int is_number(const char *s) {
    if (!*s) return 0;
    for (; *s; s++)
        if (*s < '0' || *s > '9') return 0;
    return 1;
}

int *ct__proc_tree(const char *proc_root, int *n) {
    int cap = 256, cnt = 0;
    int *pid = malloc((size_t)cap * sizeof *pid), *ppid = malloc((size_t)cap * sizeof *ppid);
    DIR *d = opendir(proc_root);
    struct dirent *e;
    while (d && pid && ppid && (e = readdir(d)) != NULL) {
        int pp;
        if (!is_number(e->d_name) || read_ppid(proc_root, e->d_name, &pp) != 0) continue;
        if (cnt == cap) {
            cap *= 2;
            int *np = realloc(pid, (size_t)cap * sizeof *np);
            if (np) pid = np;
            int *npp = np ? realloc(ppid, (size_t)cap * sizeof *npp) : NULL;
            if (npp) ppid = npp;
            if (!np || !npp) break;
        }
        pid[cnt] = atoi(e->d_name);
        ppid[cnt] = pp;
        cnt++;
    }
    if (d) closedir(d);
    int *tree = malloc((size_t)(cnt + 1) * sizeof *tree);
    if (!tree || !pid || !ppid) {
        free(pid);
        free(ppid);
        free(tree);
        *n = 0;
        return NULL;
    }
    int nt = 0;
    tree[nt++] = (int)getpid();
    for (int head = 0; head < nt; head++) /* breadth first over the parent links */
        for (int i = 0; i < cnt; i++)
            if (ppid[i] == tree[head] && pid[i] != tree[head] && nt <= cnt) tree[nt++] = pid[i];
    free(pid);
    free(ppid);
    *n = nt;
    return tree;
}
