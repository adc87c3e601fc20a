/*
 * run_logs.c - reading the JSON Lines logs of runs for `carbontracker
 * exporter` (metrics.c) and `carbontracker parse --job` (job.c): one run's
 * log summed as far as it is written, read incrementally (each file keeps its
 * inode and the offset after its last complete line; a line still being
 * written, without its '\n', waits for the next read; a file replaced or
 * truncated is read again from the start), and the SLURM plugin's attribution
 * beside it. Public API only.
 */
#include "run_logs.h"

#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char SUFFIX[] = CT_JSONL_SUFFIX;

int ct_jsonl_log_name(const char *name) {
    size_t n = strlen(name), k = sizeof SUFFIX - 1;
    return n >= k && strcmp(name + n - k, SUFFIX) == 0;
}

/* ------------------------------------------------------------------ */
/* A small JSON reader: top-level keys of one object per line          */
/* ------------------------------------------------------------------ */

static const char *skip_ws(const char *p, const char *end) {
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')) p++;
    return p;
}

/* End of the string starting at p (on its opening quote), after the closing quote; NULL if unterminated. */
static const char *skip_string(const char *p, const char *end) {
    for (p++; p < end; p++) {
        if (*p == '\\') p++;
        else if (*p == '"') return p + 1;
    }
    return NULL;
}

/* End of the JSON value at p; NULL when malformed or cut. */
static const char *skip_value(const char *p, const char *end) {
    p = skip_ws(p, end);
    if (p >= end) return NULL;
    if (*p == '"') return skip_string(p, end);
    if (*p == '{' || *p == '[') {
        int depth = 0;
        for (; p < end; p++) {
            if (*p == '"') {
                p = skip_string(p, end);
                if (!p) return NULL;
                p--;
            } else if (*p == '{' || *p == '[') depth++;
            else if (*p == '}' || *p == ']') {
                if (--depth == 0) return p + 1;
            }
        }
        return NULL;
    }
    while (p < end && *p != ',' && *p != '}' && *p != ']' && *p != ' ' && *p != '\n') p++;
    return p;
}

/* Finds key at the top level of the object [obj, end); *val = start of its value. */
static int json_get(const char *obj, const char *end, const char *key, const char **val, const char **vend) {
    const char *p = skip_ws(obj, end);
    if (p >= end || *p != '{') return -1;
    p++;
    size_t klen = strlen(key);
    for (;;) {
        p = skip_ws(p, end);
        if (p >= end || *p != '"') return -1;
        const char *ks = p + 1;
        const char *ke = skip_string(p, end);
        if (!ke) return -1;
        p = skip_ws(ke, end);
        if (p >= end || *p != ':') return -1;
        p = skip_ws(p + 1, end);
        const char *ve = skip_value(p, end);
        if (!ve) return -1;
        if ((size_t)(ke - 1 - ks) == klen && memcmp(ks, key, klen) == 0) {
            *val = p;
            if (vend) *vend = ve;
            return 0;
        }
        p = skip_ws(ve, end);
        if (p < end && *p == ',') {
            p++;
            continue;
        }
        return -1;
    }
}

static int json_num(const char *obj, const char *end, const char *key, double *out) {
    const char *v, *ve;
    if (json_get(obj, end, key, &v, &ve) != 0) return -1;
    char tmp[64];
    size_t n = (size_t)(ve - v);
    if (n == 0 || n >= sizeof tmp) return -1;
    memcpy(tmp, v, n);
    tmp[n] = '\0';
    char *e = NULL;
    double d = strtod(tmp, &e);
    if (e == tmp || *e) return -1;
    *out = d;
    return 0;
}

static int json_bool(const char *obj, const char *end, const char *key) {
    const char *v, *ve;
    if (json_get(obj, end, key, &v, &ve) != 0) return -1;
    return (ve - v == 4 && memcmp(v, "true", 4) == 0) ? 1 : 0;
}

/* A string value, decoded (\uXXXX outside ASCII becomes '?'). */
static int json_str(const char *obj, const char *end, const char *key, char *buf, size_t len) {
    const char *v, *ve;
    if (json_get(obj, end, key, &v, &ve) != 0 || *v != '"' || len == 0) return -1;
    size_t o = 0;
    for (const char *p = v + 1; p < ve - 1 && o + 1 < len; p++) {
        char c = *p;
        if (c == '\\' && p + 1 < ve - 1) {
            c = *++p;
            switch (c) {
            case 'n': c = '\n'; break;
            case 't': c = '\t'; break;
            case 'r': c = '\r'; break;
            case 'b': c = '\b'; break;
            case 'f': c = '\f'; break;
            case 'u': {
                unsigned cp = 0;
                if (ve - 1 - p > 4 && sscanf(p + 1, "%4x", &cp) == 1) p += 4;
                c = cp < 0x80 && cp >= 0x20 ? (char)cp : '?';
                break;
            }
            default: break; /* \" \\ \/ */
            }
        }
        buf[o++] = c;
    }
    buf[o] = '\0';
    return 0;
}

/* ------------------------------------------------------------------ */
/* One run's log                                                       */
/* ------------------------------------------------------------------ */

void ct_jsonl_run_reset(ct_jsonl_run *r) {
    char path[1024], id[256];
    memcpy(path, r->path, sizeof path);
    memcpy(id, r->run_id, sizeof id);
    memset(r, 0, sizeof *r);
    memcpy(r->path, path, sizeof path);
    memcpy(r->run_id, id, sizeof id);
    r->rank = -1;
    r->start_unix_s = r->end_unix_s = NAN;
    r->pue = NAN;
}

/* Adds the per-component numbers of an object {"cpu": x, "gpu": y}. */
static void per_component(const char *obj, const char *end, double *sum, int *has) {
    for (int c = 0; c < CT_COMPONENT_COUNT; c++) {
        double v;
        if (json_num(obj, end, ct_component_name((ct_component)c), &v) == 0 && isfinite(v)) {
            sum[c] += v;
            if (has) has[c] = 1;
        }
    }
}

static void run_line(ct_jsonl_run *r, const char *s, const char *end) {
    char ev[32];
    if (json_str(s, end, "event", ev, sizeof ev) != 0) return; /* not ours or damaged: ignored */
    const char *v, *ve;
    if (strcmp(ev, "header") == 0) {
        r->has_header = 1;
        json_str(s, end, "host", r->host, sizeof r->host);
        json_str(s, end, "job_id", r->job_id, sizeof r->job_id);
        double rank;
        if (json_num(s, end, "rank", &rank) == 0 && rank >= 0 && rank < 1e9) r->rank = (int)rank;
        json_num(s, end, "start", &r->start_unix_s);
        json_num(s, end, "pue", &r->pue);
    } else if (strcmp(ev, "epoch") == 0) {
        if (json_get(s, end, "energy_j", &v, &ve) == 0) per_component(v, ve, r->energy_j, r->has_component);
        double co2, x;
        if (json_num(s, end, "co2eq_g", &co2) == 0 && isfinite(co2)) r->co2eq_g += co2;
        if (json_num(s, end, "duration_s", &x) == 0 && isfinite(x)) r->duration_s += x;
        if (json_num(s, end, "end", &x) == 0 && isfinite(x)) r->end_unix_s = x;
        r->epochs++;
        if (json_get(s, end, "estimated", &v, &ve) == 0)
            for (int c = 0; c < CT_COMPONENT_COUNT; c++)
                if (json_bool(v, ve, ct_component_name((ct_component)c)) == 1) r->estimated[c] = 1;
    } else if (strcmp(ev, "prediction") == 0) {
        double j[CT_COMPONENT_COUNT] = {0, 0};
        if (json_get(s, end, "energy_j", &v, &ve) == 0) per_component(v, ve, j, NULL);
        r->has_prediction = 1;
        r->predicted_j = j[0] + j[1];
        double co2;
        if (json_num(s, end, "co2eq_g", &co2) == 0) r->predicted_co2eq_g = co2;
    } else if (strcmp(ev, "final") == 0) {
        r->finished = 1;
        double x;
        if (json_num(s, end, "end", &x) == 0 && isfinite(x)) r->end_unix_s = x;
    }
}

void ct_jsonl_run_update(ct_jsonl_run *r, const struct stat *st, char **scratch, size_t *scratch_cap) {
    if (r->dev != st->st_dev || r->ino != st->st_ino || st->st_size < r->offset) {
        ct_jsonl_run_reset(r);
        r->dev = st->st_dev;
        r->ino = st->st_ino;
    }
    if (st->st_size == r->offset) return;
    int fd = open(r->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    size_t want = (size_t)(st->st_size - r->offset);
    if (want > *scratch_cap) {
        char *nl = realloc(*scratch, want + 1);
        if (!nl) {
            close(fd);
            return;
        }
        *scratch = nl;
        *scratch_cap = want;
    }
    ssize_t n = pread(fd, *scratch, want, r->offset);
    close(fd);
    if (n <= 0) return;
    const char *p = *scratch, *end = *scratch + n;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) break; /* a line still being written: next time */
        run_line(r, p, nl);
        r->offset += nl + 1 - p;
        p = nl + 1;
    }
}

void ct_jsonl_run_start(ct_jsonl_run *r, const char *path) {
    memset(r, 0, sizeof *r);
    snprintf(r->path, sizeof r->path, "%s", path);
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t idl = strlen(base);
    if (ct_jsonl_log_name(base)) idl -= sizeof SUFFIX - 1;
    if (idl >= sizeof r->run_id) idl = sizeof r->run_id - 1;
    memcpy(r->run_id, base, idl);
    r->run_id[idl] = '\0';
    ct_jsonl_run_reset(r);
}

int ct_jsonl_run_read(const char *path, ct_jsonl_run *out) {
    ct_jsonl_run_start(out, path);
    struct stat st;
    if (stat(path, &st) != 0) return CT_EIO;
    char *scratch = NULL;
    size_t cap = 0;
    out->dev = st.st_dev;
    out->ino = st.st_ino;
    ct_jsonl_run_update(out, &st, &scratch, &cap);
    free(scratch);
    return out->has_header ? 0 : CT_EPARSE;
}

int ct_attribution_read(ct_jsonl_run *r) {
    size_t n = strlen(r->path);
    if (n < sizeof SUFFIX - 1 || strcmp(r->path + n - (sizeof SUFFIX - 1), SUFFIX) != 0) return CT_EINVAL;
    char path[1100];
    snprintf(path, sizeof path, "%.*s_attribution.json", (int)(n - (sizeof SUFFIX - 1)), r->path);
    FILE *f = fopen(path, "re");
    if (!f) return CT_ENODATA;
    char buf[2048];
    size_t len = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[len] = '\0';
    if (json_num(buf, buf + len, "share", &r->share) != 0 ||
        json_num(buf, buf + len, "cpu_j_attributed", &r->cpu_j_attributed) != 0)
        return CT_EPARSE;
    r->attributed = 1;
    return 0;
}
