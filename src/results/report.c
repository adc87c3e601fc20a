/*
 * report.c - ct_report_render: reads the run (run_detail.c), then hands it to
 * the drawing code in libcarbontracker-report.so, loaded with dlopen on first
 * use: the library itself never links cairo, so a tracked program loads
 * neither cairo nor X11 (docs/report.md has the figures).
 *
 * Where the report library is looked for, in order: $CT_REPORT_LIBRARY; next
 * to the object that holds this code (libcarbontracker.so's directory, also
 * inside the Python package); the install directory; the build tree; the
 * dynamic loader's search path.
 *
 * The output is written to a fresh temporary file in the target's directory
 * (O_EXCL, mode 0644 less umask) and renamed over the target: a symlink
 * planted at the target is replaced, never followed.
 */
#include "report_internal.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef CT_REPORT_INSTALL_PATH
#define CT_REPORT_INSTALL_PATH ""
#endif
#ifndef CT_REPORT_BUILD_PATH
#define CT_REPORT_BUILD_PATH ""
#endif
#define REPORT_SONAME "libcarbontracker-report.so"

#if CT_HAVE_CAIRO
static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static ct_report_draw_fn draw_fn;
static char load_error[512];

static void *try_open(const char *path) {
    if (!path || !path[0]) return NULL;
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        snprintf(load_error, sizeof load_error, "%s", e ? e : path);
    }
    return h;
}

static void load_report_library(void) {
    void *h = NULL;
    const char *env = ct__env(CT__ENV_REPORT_LIBRARY);
    if (env) {
        h = try_open(env);
    } else {
        Dl_info info;
        if (dladdr((void *)&load_report_library, &info) && info.dli_fname) {
            const char *slash = strrchr(info.dli_fname, '/');
            if (slash) {
                char path[4096];
                snprintf(path, sizeof path, "%.*s/%s", (int)(slash - info.dli_fname), info.dli_fname, REPORT_SONAME);
                if (access(path, F_OK) == 0) h = try_open(path);
            }
        }
        if (!h && access(CT_REPORT_INSTALL_PATH, F_OK) == 0) h = try_open(CT_REPORT_INSTALL_PATH);
        if (!h && access(CT_REPORT_BUILD_PATH, F_OK) == 0) h = try_open(CT_REPORT_BUILD_PATH);
        if (!h) h = try_open(REPORT_SONAME);
    }
    if (!h) return;
    draw_fn = (ct_report_draw_fn)dlsym(h, CT__REPORT_ENTRY);
    if (!draw_fn) snprintf(load_error, sizeof load_error, "the report library lacks %s", CT__REPORT_ENTRY);
}

static int write_fd(void *user, const unsigned char *data, unsigned int len) {
    int fd = *(int *)user;
    while (len > 0) {
        ssize_t k = write(fd, data, len);
        if (k < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        data += k;
        len -= (unsigned int)k;
    }
    return 0;
}

/* Draws into a temporary file next to path_out, then renames it into place. */
static int render_to(const ct_run_detail *d, const ct_job_detail *jd, const char *path_out, int kind, int panel) {
    char pp[600];
    ct__printable(path_out, pp, sizeof pp);
    size_t n = strlen(path_out);
    char *tmp = malloc(n + 16);
    if (!tmp) return ct__fail(CT_ENOMEM, "out of memory");
    snprintf(tmp, n + 16, "%s.tmp.XXXXXX", path_out);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        int e = errno;
        free(tmp);
        return ct__fail(CT_EIO, "%s: cannot write: %s", pp, strerror(e));
    }
    mode_t um = umask(0);
    umask(um);
    (void)fchmod(fd, 0666 & ~um);
    ct_report_job job;
    memset(&job, 0, sizeof job);
    job.abi = CT__REPORT_ABI;
    job.job_size = sizeof job;
    job.detail_size = sizeof *d;
    job.d = d;
    job.jd = jd;
    job.jd_size = sizeof(ct_job_detail);
    job.kind = kind;
    job.panel = panel;
    job.version = ct_version();
    double km1 = ct_car_km(1000.0);
    job.car_g_per_km = km1 > 0 ? 1000.0 / km1 : 0;
    if (isfinite(d->start_unix_s)) ct__format_iso8601(d->start_unix_s, job.started, sizeof job.started);
    ct_format_duration(d->actual.duration_s, 0, job.actual_duration, sizeof job.actual_duration);
    ct_format_duration(d->predicted.duration_s, 0, job.predicted_duration, sizeof job.predicted_duration);
    job.write = write_fd;
    job.user = &fd;
    int rc = draw_fn(&job);
    if (!rc && fsync(fd) != 0 && errno != EINVAL) {
        rc = CT_EIO;
        snprintf(job.err, sizeof job.err, "cannot write: %s", strerror(errno));
    }
    if (close(fd) != 0 && !rc) {
        rc = CT_EIO;
        snprintf(job.err, sizeof job.err, "cannot write: %s", strerror(errno));
    }
    if (!rc && rename(tmp, path_out) != 0) {
        rc = CT_EIO;
        snprintf(job.err, sizeof job.err, "cannot write: %s", strerror(errno));
    }
    if (rc) {
        unlink(tmp);
        ct__fail(rc, "%s: %s", pp, job.err[0] ? job.err : "cannot write");
    }
    free(tmp);
    return rc;
}

#endif /* CT_HAVE_CAIRO */

static const char *extension(const char *path) {
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(path, '.');
    return (dot && (!slash || dot > slash)) ? dot + 1 : "";
}

static int render(const char *path_in, const char *job_id, const char *path_out, int panels) {
    ct__fail_clear();
    if (!path_in || !path_out) return ct__fail(CT_EINVAL, "input and output paths are required");
    if (job_id && !ct__job_id_valid(job_id)) {
        char pj[200];
        ct__printable(job_id, pj, sizeof pj);
        return ct__fail(CT_EINVAL, "the job id must be 1-63 of A-Z a-z 0-9 _ - . (got \"%s\")", pj);
    }
    const char *ext = extension(path_out);
    int kind = strcasecmp(ext, "pdf") == 0   ? CT__OUT_PDF
               : strcasecmp(ext, "png") == 0 ? CT__OUT_PNG
               : strcasecmp(ext, "svg") == 0 ? CT__OUT_SVG
                                             : -1;
    char pp[600];
    ct__printable(path_out, pp, sizeof pp);
    if (kind < 0 || (panels && kind == CT__OUT_PNG)) {
        char pe[64];
        ct__printable(ext, pe, sizeof pe);
        return ct__fail(CT_EINVAL, "%s: unknown output type \"%s\" (use %s)", pp, pe,
                        panels ? ".pdf or .svg" : ".pdf, .png or .svg");
    }
#if !CT_HAVE_CAIRO
    return ct__fail(CT_ENOTSUP,
                    "cannot render %s: this carbontracker was built without cairo (reports need cairo; install "
                    "libcairo2-dev and rebuild with -DCT_WITH_CAIRO=ON)",
                    pp);
#else
    pthread_once(&load_once, load_report_library);
    if (!draw_fn)
        return ct__fail(CT_ENOTSUP,
                        "cannot render %s: the report library (%s) cannot be loaded: %s (set CT_REPORT_LIBRARY to "
                        "its path)",
                        pp, REPORT_SONAME, load_error);
    if (job_id) {
        ct_job_detail jd;
        int rc = ct__job_detail_load(path_in, job_id, &jd);
        if (rc) return rc;
        if (jd.run.nepochs == 0) {
            char pd[600];
            ct__printable(path_in, pd, sizeof pd);
            rc = ct__fail(CT_ENODATA, "%s: job %s: no epochs recorded yet (nothing to plot)", pd, job_id);
        } else rc = render_to(&jd.run, &jd, path_out, kind, CT__PANEL_ALL);
        ct__job_detail_free(&jd);
        return rc;
    }
    ct_run_detail d;
    int rc = ct__run_detail_load(path_in, &d);
    if (rc) return rc;
    if (!panels) {
        rc = render_to(&d, NULL, path_out, kind, CT__PANEL_ALL);
    } else {
        static const char *const names[CT__PANELS] = {"power", "energy", "co2eq", "prediction"};
        size_t stem = strlen(path_out) - strlen(ext) - 1;
        char *p = malloc(stem + 32);
        if (!p) rc = ct__fail(CT_ENOMEM, "out of memory");
        for (int i = 0; p && i < CT__PANELS && !rc; i++) {
            snprintf(p, stem + 32, "%.*s-%s.%s", (int)stem, path_out, names[i], ext);
            rc = render_to(&d, NULL, p, kind, i);
        }
        free(p);
    }
    ct__run_detail_free(&d);
    return rc;
#endif
}

int ct_report_render(const char *path_in, const char *path_out) { return render(path_in, NULL, path_out, 0); }

int ct_report_render_panels(const char *path_in, const char *path_out) { return render(path_in, NULL, path_out, 1); }

int ct_report_render_job(const char *dir, const char *job_id, const char *path_out) {
    if (!job_id) {
        ct__fail_clear();
        return ct__fail(CT_EINVAL, "no job id given");
    }
    return render(dir, job_id, path_out, 0);
}
