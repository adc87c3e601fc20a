/* The original's log files: {prefix_}{pid}.{random}_{YYYY-MM-DDTHHMMSSZ}_carbontracker.log,
 * ..._carbontracker_output.log, ..._carbontracker_err.log (created on the first error),
 * and our ..._carbontracker.jsonl. */
#include "output/output.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* A Unix time as time_t without an undefined conversion (NaN, out of range: 0). */
static time_t to_time_t(double unix_s) { return (unix_s > -1e11 && unix_s < 1e11) ? (time_t)unix_s : (time_t)0; }

void ct__format_log_time(double unix_s, char *buf, size_t len) {
    time_t t = to_time_t(unix_s);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
}

/* mkdir -p; 0 or an errno value. */
static int make_dirs(const char *dir) {
    char path[PATH_MAX];
    if (strlen(dir) >= sizeof path) return ENAMETOOLONG;
    strcpy(path, dir);
    for (char *p = path + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(path, 0777) != 0 && errno != EEXIST) return errno;
        *p = '/';
    }
    if (mkdir(path, 0777) != 0 && errno != EEXIST) return errno;
    return 0;
}

static FILE *open_new(const char *path) {
    FILE *f = fopen(path, "wxe"); /* never overwrite another run's log */
    if (f) setvbuf(f, NULL, _IOLBF, 0);
    return f;
}

/* A seed that differs between trackers started in the same microsecond by
 * different processes, without undefined conversions: unix_s * 1e6 is about
 * 1.8e15 and does not fit an unsigned int (UBSan: float-cast-overflow). */
static unsigned log_seed(double unix_s) {
    uint64_t us = (unix_s > 0 && unix_s < 1e13) ? (uint64_t)(unix_s * 1e6) : 0;
    uint64_t mono = (uint64_t)(ct__monotonic_s() * 1e9);
    uint64_t x = us ^ (mono << 17) ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)&us;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return (unsigned)(x ^ (x >> 32));
}

static void close_unlink(FILE **f, const char *path) {
    if (!*f) return;
    fclose(*f);
    unlink(path);
    *f = NULL;
}

#define CT__LOG_NAME_TRIES 16

int ct__logfiles_open(ct__logfiles *lf, const char *dir, const char *prefix, double unix_s, char *msg, size_t len) {
    return ct__logfiles_open_seeded(lf, dir, prefix, unix_s, log_seed(unix_s), msg, len);
}

int ct__logfiles_open_seeded(ct__logfiles *lf, const char *dir, const char *prefix, double unix_s, unsigned seed,
                             char *msg, size_t len) {
    memset(lf, 0, sizeof *lf);
    lf->jsonl = -1;
    pthread_mutex_init(&lf->mu, NULL);
    if (!dir) return 0;
    char shown[200];
    ct__printable(dir, shown, sizeof shown);
    int rc = make_dirs(dir);
    if (rc) {
        snprintf(msg, len, "cannot create log_dir \"%s\": %s; no log files are written", shown, strerror(rc));
        return CT_EIO;
    }
    time_t t = to_time_t(unix_s);
    struct tm tm;
    if (!gmtime_r(&t, &tm)) memset(&tm, 0, sizeof tm);
    char ts[32];
    strftime(ts, sizeof ts, "%Y-%m-%dT%H%M%SZ", &tm);
    /* All four names of one run are taken together: any of them already
     * present (another run, or a name planted in a shared directory) means
     * another random part, so no one name can disable the logs. */
    int e = 0;
    for (int attempt = 0; attempt < CT__LOG_NAME_TRIES; attempt++) {
        unsigned rnd = (unsigned)rand_r(&seed) % 1000000u;
        int n = snprintf(lf->base, sizeof lf->base, "%s/%s%s%d.%06u_%s", dir, prefix && *prefix ? prefix : "",
                         prefix && *prefix ? "_" : "", (int)getpid(), rnd, ts);
        if (n < 0 || (size_t)n + 40 >= sizeof lf->base) {
            snprintf(msg, len, "log_dir path too long: \"%s\"", shown);
            return CT_EIO;
        }
        snprintf(lf->std_path, sizeof lf->std_path, "%s_carbontracker.log", lf->base);
        snprintf(lf->out_path, sizeof lf->out_path, "%s_carbontracker_output.log", lf->base);
        snprintf(lf->err_path, sizeof lf->err_path, "%s_carbontracker_err.log", lf->base);
        snprintf(lf->jsonl_path, sizeof lf->jsonl_path, "%s_carbontracker.jsonl", lf->base);
        struct stat st;
        if (lstat(lf->err_path, &st) == 0) { /* created later, on the first error: must be free now */
            e = EEXIST;
            continue;
        }
        lf->std = open_new(lf->std_path);
        if (lf->std) lf->out = open_new(lf->out_path);
        /* The JSON Lines file is written with write(2), one call per record. */
        if (lf->out) lf->jsonl = open(lf->jsonl_path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0666);
        if (lf->jsonl >= 0) break;
        e = errno;
        close_unlink(&lf->std, lf->std_path);
        close_unlink(&lf->out, lf->out_path);
        if (e != EEXIST) break;
    }
    if (lf->jsonl < 0) {
        snprintf(msg, len, "cannot write log files in \"%s\": %s; no log files are written", shown,
                 e == EEXIST ? "every name tried already exists" : strerror(e));
        return CT_EIO;
    }
    lf->enabled = 1;
    return 0;
}

void ct__logfiles_close(ct__logfiles *lf) {
    pthread_mutex_lock(&lf->mu);
    if (lf->std) fclose(lf->std);
    if (lf->out) fclose(lf->out);
    if (lf->err) fclose(lf->err);
    if (lf->jsonl >= 0) close(lf->jsonl);
    lf->std = lf->out = lf->err = NULL;
    lf->jsonl = -1;
    free(lf->lost_epochs);
    lf->lost_epochs = NULL;
    lf->enabled = 0;
    pthread_mutex_unlock(&lf->mu);
    pthread_mutex_destroy(&lf->mu);
}

static void write_record_prefixed(FILE *f, const char *prefix, const char *text) {
    char ts[32];
    ct__format_log_time(ct__unix_s(), ts, sizeof ts);
    fprintf(f, "%s - %s", ts, prefix);
    ct__fput_clean(f, text); /* names from outside may hold escape codes */
    fputc('\n', f);
    fflush(f);
}

static void write_record(FILE *f, const char *text) { write_record_prefixed(f, "", text); }

void ct__log_std(ct__logfiles *lf, const char *fmt, ...) {
    if (!lf->enabled) return;
    char text[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&lf->mu);
    if (lf->std) write_record(lf->std, text);
    pthread_mutex_unlock(&lf->mu);
}

void ct__log_out(ct__logfiles *lf, const char *text) {
    if (!lf->enabled) return;
    pthread_mutex_lock(&lf->mu);
    if (lf->out) write_record_prefixed(lf->out, "CarbonTracker: ", text); /* as the original's output logger */
    pthread_mutex_unlock(&lf->mu);
}

void ct__log_err(ct__logfiles *lf, const char *text) {
    if (!lf->enabled) return;
    pthread_mutex_lock(&lf->mu);
    if (!lf->err) lf->err = open_new(lf->err_path);
    if (lf->err) write_record(lf->err, text);
    if (lf->std) write_record(lf->std, text);
    pthread_mutex_unlock(&lf->mu);
}

/* The whole of p in one write(2) (continued only after a short write);
 * *done gets the bytes that reached the file. */
static int write_all(int fd, const char *p, size_t n, size_t *done) {
    *done = 0;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        if (w == 0) {
            errno = ENOSPC;
            return -1;
        }
        p += w;
        n -= (size_t)w;
        *done += (size_t)w;
    }
    return 0;
}

static void note_lost(ct__logfiles *lf, int epoch, double now) {
    if (lf->lost_records++ == 0) lf->lost_from = now;
    lf->lost_to = now;
    if (epoch <= 0 || lf->lost_epochs_incomplete) return;
    if (lf->nlost_epochs == lf->cap_lost_epochs) {
        int cap = lf->cap_lost_epochs ? lf->cap_lost_epochs * 2 : 16;
        int *p = realloc(lf->lost_epochs, (size_t)cap * sizeof *p);
        if (!p) {
            lf->lost_epochs_incomplete = 1;
            return;
        }
        lf->lost_epochs = p;
        lf->cap_lost_epochs = cap;
    }
    lf->lost_epochs[lf->nlost_epochs++] = epoch;
}

int ct__jsonl_write(ct__logfiles *lf, const char *rec, size_t len, int epoch, double now, int *err) {
    if (!lf->enabled) return CT__JSONL_OFF;
    pthread_mutex_lock(&lf->mu);
    if (lf->jsonl < 0) {
        pthread_mutex_unlock(&lf->mu);
        return CT__JSONL_OFF;
    }
    /* After lost records: a fresh line if needed, the gap record, then this record. */
    ct__buf b = {0};
    if (!rec) b.oom = 1; /* the caller ran out of memory formatting it */
    if (lf->jsonl_newline) ct__buf_putc(&b, '\n');
    if (lf->lost_records > 0) {
        ct__record_gap(&b, lf, now);
        ct__buf_putc(&b, '\n');
    }
    int rc;
    const char *p = rec;
    size_t n = len;
    if (b.len > 0 && !b.oom) {
        ct__buf_putn(&b, rec, len);
        p = b.p;
        n = b.len;
    }
    size_t done = 0;
    if (b.oom || write_all(lf->jsonl, p, n, &done) != 0) {
        int e = b.oom ? ENOMEM : errno;
        /* Remove a cut record; if that fails, the next one starts a new line. */
        if (done > 0 && ftruncate(lf->jsonl, lf->jsonl_size) != 0) lf->jsonl_newline = 1;
        note_lost(lf, epoch, now);
        rc = lf->jsonl_failing ? CT__JSONL_LOST : CT__JSONL_LOST_FIRST;
        lf->jsonl_failing = 1;
        lf->jsonl_errno = e;
        if (err) *err = e;
    } else {
        lf->jsonl_size += (off_t)n;
        lf->jsonl_failing = lf->jsonl_newline = 0;
        lf->lost_records = 0;
        lf->nlost_epochs = 0;
        lf->lost_epochs_incomplete = 0;
        rc = CT__JSONL_WRITTEN;
    }
    pthread_mutex_unlock(&lf->mu);
    ct__buf_free(&b);
    return rc;
}
