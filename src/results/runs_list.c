/*
 * runs_list.c - the list behind ct_runs: its records, its warnings, its
 * interned strings (host, job id, intensity source: one copy per distinct
 * string) and freeing it all. The bottom of `parse`: it calls no other file
 * of src/results/.
 */
#include "runs_internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ct__runs_warn(ct_runs *r, const char *fmt, ...) {
    char buf[1200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (r->nw == r->capw) {
        int nc = r->capw ? r->capw * 2 : 16;
        char **nw = realloc(r->warnings, (size_t)nc * sizeof(char *));
        if (!nw) return CT_ENOMEM;
        r->warnings = nw;
        r->capw = nc;
    }
    char *s = ct__strdup(buf);
    if (!s) return CT_ENOMEM;
    r->warnings[r->nw++] = s;
    return 0;
}

static size_t str_hash(const char *s) {
    size_t h = 1469598103934665603ull & (size_t)-1;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * (size_t)1099511628211ull;
    return h;
}

const char *ct__runs_intern(ct_runs *r, const char *s) {
    if (!s || !s[0]) return "";
    intern_tab *t = &r->strings;
    if ((t->n + 1) * 2 > t->cap) {
        size_t nc = t->cap ? t->cap * 2 : 64;
        char **ns = calloc(nc, sizeof *ns);
        if (!ns) return NULL;
        for (size_t i = 0; i < t->cap; i++)
            if (t->slots[i]) {
                size_t k = str_hash(t->slots[i]) & (nc - 1);
                while (ns[k]) k = (k + 1) & (nc - 1);
                ns[k] = t->slots[i];
            }
        free(t->slots);
        t->slots = ns;
        t->cap = nc;
    }
    size_t k = str_hash(s) & (t->cap - 1);
    while (t->slots[k]) {
        if (strcmp(t->slots[k], s) == 0) return t->slots[k];
        k = (k + 1) & (t->cap - 1);
    }
    char *d = ct__strdup(s);
    if (!d) return NULL;
    t->slots[k] = d;
    t->n++;
    return d;
}

run_rec *ct__runs_new(ct_runs *r) {
    if (r->n == r->cap) {
        int nc = r->cap ? r->cap + r->cap / 2 : 64;
        run_rec *nr = realloc(r->runs, (size_t)nc * sizeof(run_rec));
        if (!nr) return NULL;
        r->runs = nr;
        r->cap = nc;
    }
    run_rec *rec = &r->runs[r->n++];
    memset(rec, 0, sizeof *rec);
    rec->host = rec->job_id = rec->source = "";
    rec->rank = -1;
    rec->start = rec->end = rec->intensity = NAN;
    rec->measurement = CT__MEAS_UNKNOWN;
    rec->files = 1;
    rec->measuring = 1;
    return rec;
}

void ct_runs_free(ct_runs *runs) {
    if (!runs) return;
    for (int i = 0; i < runs->nw; i++) free(runs->warnings[i]);
    free(runs->warnings);
    for (int i = 0; i < runs->n; i++) free(runs->runs[i].file);
    free(runs->runs);
    for (size_t i = 0; i < runs->strings.cap; i++) free(runs->strings.slots[i]);
    free(runs->strings.slots);
    free(runs);
}
