/*
 * jsonl_read.c - the one reader of our JSON Lines logs (docs/jsonl-schema.md)
 * and the safe opening every results reader uses.
 *
 * Files are opened with O_NONBLOCK (a FIFO named like a log never hangs the
 * reader) and accepted only when fstat says regular. A file is streamed
 * through a buffer that grows only to its longest line, so a log of 10^6
 * epochs (750 MB) is read in constant memory: no size limit.
 */
#include "results_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHUNK ((size_t)64 * 1024)
#define TAIL_MAX ((size_t)1024 * 1024)
#define MAX_LINE ((size_t)64 * 1024 * 1024) /* a longer line is damage: skipped, counted */

/* ---- streaming -------------------------------------------------------- */

static int blank(char c) { return c == '\n' || c == '\r' || c == ' ' || c == '\t'; }

int ct__jsonl_open(ct_jsonl_file *f, const char *path) {
    memset(f, 0, sizeof *f);
    f->fd = -1;
    int fd = ct__open_regular(path, 0, &f->size);
    if (fd < 0) return fd;
    f->fd = fd;
    return 0;
}

void ct__jsonl_close(ct_jsonl_file *f) {
    if (f->fd >= 0) close(f->fd);
    free(f->buf);
    memset(f, 0, sizeof *f);
    f->fd = -1;
}

int ct__jsonl_next(ct_jsonl_file *f, const char **line, size_t *len) {
    for (;;) {
        char *nl = f->pos < f->len ? memchr(f->buf + f->pos, '\n', f->len - f->pos) : NULL;
        if (f->skipping) {
            /* inside a line over MAX_LINE: dropped up to its newline */
            if (!nl && !f->eof) {
                f->pos = f->len = 0;
            } else {
                f->pos = nl ? (size_t)(nl - f->buf) + 1 : f->len;
                f->skipping = 0;
                f->lineno++;
                *line = "";
                *len = 0;
                f->long_lines++;
                return 1;
            }
        } else if (!nl && f->len - f->pos > MAX_LINE) {
            f->skipping = 1;
            f->pos = f->len = 0;
            continue;
        }
        if (nl) {
            *line = f->buf + f->pos;
            *len = (size_t)(nl - (f->buf + f->pos));
            f->pos = (size_t)(nl - f->buf) + 1;
            f->lineno++;
            return 1;
        }
        /* the file as fstat saw it is all read: the end (a run still writing is read as it was) */
        if (!f->eof && f->base_off + (off_t)f->len >= f->size && f->size > 0) f->eof = 1;
        if (f->eof) {
            if (f->pos < f->len) {
                *line = f->buf + f->pos;
                *len = f->len - f->pos;
                f->pos = f->len;
                f->lineno++;
                return 1;
            }
            return 0;
        }
        /* keep the partial line, read more */
        if (f->pos > 0) {
            memmove(f->buf, f->buf + f->pos, f->len - f->pos);
            f->base_off += (off_t)f->pos;
            f->len -= f->pos;
            f->pos = 0;
        }
        if (f->cap - f->len < CHUNK) {
            size_t nc = f->cap ? f->cap * 2 : CHUNK * 2;
            while (nc - f->len < CHUNK) nc *= 2;
            char *nb = realloc(f->buf, nc);
            if (!nb) return ct__fail(CT_ENOMEM, "out of memory");
            f->buf = nb;
            f->cap = nc;
        }
        ssize_t k = read(f->fd, f->buf + f->len, f->cap - f->len);
        if (k < 0) {
            if (errno == EINTR) continue;
            return ct__fail(CT_EIO, "%s", strerror(errno));
        }
        if (k == 0) f->eof = 1;
        f->len += (size_t)k;
    }
}

int ct__jsonl_last_line(ct_jsonl_file *f, char **out, size_t *len) {
    *out = NULL;
    *len = 0;
    if ((f->eof || f->base_off + (off_t)f->len >= f->size) && !f->skipping) {
        /* the end of the file is in the buffer already (a small file: all of it) */
        size_t e = f->len;
        while (e > 0 && blank(f->buf[e - 1])) e--;
        size_t s = e;
        while (s > 0 && f->buf[s - 1] != '\n') s--;
        if (s > 0 || f->base_off == 0) {
            if (e == 0) return 0;
            char *b = malloc(e - s + 1);
            if (!b) return ct__fail(CT_ENOMEM, "out of memory");
            memcpy(b, f->buf + s, e - s);
            b[e - s] = '\0';
            *out = b;
            *len = e - s;
            return 1;
        }
    }
    size_t want = 4096;
    for (;;) {
        off_t from = f->size > (off_t)want ? f->size - (off_t)want : 0;
        size_t n = (size_t)(f->size - from);
        char *b = malloc(n + 1);
        if (!b) return ct__fail(CT_ENOMEM, "out of memory");
        size_t got = 0;
        while (got < n) {
            ssize_t k = pread(f->fd, b + got, n - got, from + (off_t)got);
            if (k < 0 && errno == EINTR) continue;
            if (k <= 0) break;
            got += (size_t)k;
        }
        size_t e = got;
        while (e > 0 && blank(b[e - 1])) e--;
        size_t s = e;
        while (s > 0 && b[s - 1] != '\n') s--;
        if (e == 0 && from == 0) {
            free(b);
            return 0;
        }
        if (s > 0 || from == 0) {
            memmove(b, b + s, e - s);
            b[e - s] = '\0';
            *out = b;
            *len = e - s;
            return 1;
        }
        free(b);
        if (want >= TAIL_MAX) return 0; /* a last line over 1 MiB: the caller streams */
        want *= 8;
    }
}

/* ---- records ---------------------------------------------------------- */

ct_rec_kind ct__jsonl_kind(const ct_json *rec) {
    if (!rec || rec->type != CT_JSON_OBJECT) return CT__REC_OTHER;
    const char *ev = ct__json_str(ct__json_get(rec, "event"), NULL);
    if (!ev) ev = ct__json_str(ct__json_get(rec, "type"), "");
    switch (ev[0]) {
    case 'h': return strcmp(ev, "header") == 0 ? CT__REC_HEADER : CT__REC_OTHER;
    case 'e': return strcmp(ev, "epoch") == 0 ? CT__REC_EPOCH : CT__REC_OTHER;
    case 'p': return strcmp(ev, "prediction") == 0 ? CT__REC_PREDICTION : CT__REC_OTHER;
    case 'f': return strcmp(ev, "final") == 0 ? CT__REC_FINAL : CT__REC_OTHER;
    case 'g': return strcmp(ev, "gap") == 0 ? CT__REC_GAP : CT__REC_OTHER;
    case 'i': return strcmp(ev, "intensity") == 0 ? CT__REC_INTENSITY : CT__REC_OTHER;
    default: return CT__REC_OTHER;
    }
}

void ct__jsonl_total(const ct_json *o, ct_run_total *t) {
    memset(t, 0, sizeof *t);
    t->energy_kwh = t->co2eq_g = t->intensity_g_per_kwh = NAN;
    t->measurement = CT__MEAS_UNKNOWN;
    if (!o || o->type != CT_JSON_OBJECT) return;
    t->epochs = ct__json_int(ct__json_get(o, "epochs"), 0);
    t->duration_s = ct__json_num(ct__json_get(o, "duration_s"), 0);
    t->energy_kwh = ct__json_num(ct__json_get(o, "energy_kwh"), NAN);
    t->co2eq_g = ct__json_num(ct__json_get(o, "co2eq_g"), NAN);
    t->intensity_g_per_kwh = ct__json_num(ct__json_get(o, "intensity_g_per_kwh"), NAN);
    ct__strlcpy(t->intensity_source, ct__json_str(ct__json_get(o, "intensity_source"), ""), sizeof t->intensity_source);
    int est = ct__json_bool(ct__json_get(o, "estimated"), -1);
    t->measurement = est == 0 ? CT__MEAS_MEASURED : est == 1 ? CT__MEAS_PARTLY : CT__MEAS_UNKNOWN;
    t->valid = isfinite(t->energy_kwh) && t->energy_kwh >= 0;
}

int ct__jsonl_devices_measurement(const ct_json *devs) {
    if (!devs || devs->type != CT_JSON_ARRAY) return CT__MEAS_UNKNOWN;
    int n = 0, est = 0;
    for (const ct_json *d = devs->child; d; d = d->next) {
        n++;
        if (ct__json_bool(ct__json_get(d, "estimated"), 0)) est++;
    }
    if (n == 0) return CT__MEAS_UNKNOWN;
    return est == 0 ? CT__MEAS_MEASURED : est == n ? CT__MEAS_ESTIMATED : CT__MEAS_PARTLY;
}

int ct__jsonl_gap_epochs(const ct_json *rec) {
    /* docs/jsonl-schema.md: "epochs_missing" lists the epoch numbers lost; a count is read too */
    const ct_json *m = ct__json_get(rec, "epochs_missing");
    if (m && m->type == CT_JSON_ARRAY) return m->count;
    int n = ct__json_int(m, -1);
    if (n < 0) n = ct__json_int(ct__json_get(rec, "epochs"), 0);
    return n > 0 ? n : 0;
}
