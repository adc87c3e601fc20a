/* The original's log files: {prefix_}{pid}.{random}_{YYYY-MM-DDTHHMMSSZ}_carbontracker.log,
 * ..._carbontracker_output.log, ..._carbontracker_err.log (created on the first error),
 * and our ..._carbontracker.jsonl. */
#include "output/output.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

void ct__format_log_time(double unix_s, char *buf, size_t len) {
    time_t t = (time_t)unix_s;
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
}

/* mkdir -p */
static int make_dirs(const char *dir) {
    char path[PATH_MAX];
    if (strlen(dir) >= sizeof path) return -ENAMETOOLONG;
    strcpy(path, dir);
    for (char *p = path + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(path, 0777) != 0 && errno != EEXIST) return -errno;
        *p = '/';
    }
    if (mkdir(path, 0777) != 0 && errno != EEXIST) return -errno;
    return 0;
}

static FILE *open_new(const char *path) {
    FILE *f = fopen(path, "wxe"); /* never overwrite another run's log */
    if (f) setvbuf(f, NULL, _IOLBF, 0);
    return f;
}

int ct__logfiles_open(ct__logfiles *lf, const char *dir, const char *prefix, double unix_s, char *msg, size_t len) {
    memset(lf, 0, sizeof *lf);
    pthread_mutex_init(&lf->mu, NULL);
    if (!dir) return 0;
    int rc = make_dirs(dir);
    if (rc) {
        snprintf(msg, len, "cannot create log_dir \"%s\": %s; no log files are written", dir, strerror(-rc));
        return CT_EIO;
    }
    time_t t = (time_t)unix_s;
    struct tm tm;
    gmtime_r(&t, &tm);
    char ts[32];
    strftime(ts, sizeof ts, "%Y-%m-%dT%H%M%SZ", &tm);
    unsigned seed = (unsigned)getpid() ^ (unsigned)(unix_s * 1e6);
    for (int attempt = 0; attempt < 8; attempt++) {
        unsigned rnd = (unsigned)rand_r(&seed) % 1000000u;
        int n = snprintf(lf->base, sizeof lf->base, "%s/%s%s%d.%06u_%s", dir, prefix && *prefix ? prefix : "",
                         prefix && *prefix ? "_" : "", (int)getpid(), rnd, ts);
        if (n < 0 || (size_t)n + 40 >= sizeof lf->base) {
            snprintf(msg, len, "log_dir path too long: \"%s\"", dir);
            return CT_EIO;
        }
        snprintf(lf->std_path, sizeof lf->std_path, "%s_carbontracker.log", lf->base);
        snprintf(lf->out_path, sizeof lf->out_path, "%s_carbontracker_output.log", lf->base);
        snprintf(lf->err_path, sizeof lf->err_path, "%s_carbontracker_err.log", lf->base);
        snprintf(lf->jsonl_path, sizeof lf->jsonl_path, "%s_carbontracker.jsonl", lf->base);
        lf->std = open_new(lf->std_path);
        if (!lf->std && errno == EEXIST) continue;
        break;
    }
    if (lf->std) lf->out = open_new(lf->out_path);
    if (lf->out) lf->jsonl = open_new(lf->jsonl_path);
    if (!lf->std || !lf->out || !lf->jsonl) {
        int e = errno;
        snprintf(msg, len, "cannot write log files in \"%s\": %s; no log files are written", dir, strerror(e));
        if (lf->std) fclose(lf->std), unlink(lf->std_path);
        if (lf->out) fclose(lf->out), unlink(lf->out_path);
        if (lf->jsonl) fclose(lf->jsonl), unlink(lf->jsonl_path);
        lf->std = lf->out = lf->jsonl = NULL;
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
    if (lf->jsonl) fclose(lf->jsonl);
    lf->std = lf->out = lf->err = lf->jsonl = NULL;
    lf->enabled = 0;
    pthread_mutex_unlock(&lf->mu);
    pthread_mutex_destroy(&lf->mu);
}

static void write_record(FILE *f, const char *text) {
    char ts[32];
    ct__format_log_time(ct__unix_s(), ts, sizeof ts);
    fprintf(f, "%s - %s\n", ts, text);
    fflush(f);
}

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
    if (lf->out) write_record(lf->out, text);
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

FILE *ct__jsonl_begin(ct__logfiles *lf) {
    if (!lf->enabled) return NULL;
    pthread_mutex_lock(&lf->mu);
    if (!lf->jsonl) {
        pthread_mutex_unlock(&lf->mu);
        return NULL;
    }
    return lf->jsonl;
}

void ct__jsonl_end(ct__logfiles *lf) {
    fputc('\n', lf->jsonl);
    fflush(lf->jsonl);
    pthread_mutex_unlock(&lf->mu);
}
