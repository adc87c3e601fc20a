/* Error codes, the thread's error detail and version information. */
#include "base/base.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

/* The one place where the detail of a failure is kept: per thread, so that
 * concurrent callers never see each other's messages. */
static __thread char last_error[CT__MSG_LEN];

int ct__fail(int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return code;
}

void ct__fail_clear(void) { last_error[0] = '\0'; }

int ct__errno_code(int err) {
    switch (err) {
    case ENOMEM: return CT_ENOMEM;
    case EINVAL:
    case ENAMETOOLONG:
    case EFAULT: return CT_EINVAL;
    default: return CT_EIO;
    }
}

int ct__fail_errno(int err, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < sizeof last_error)
        snprintf(last_error + n, sizeof last_error - (size_t)n, ": %s", strerror(err));
    return ct__errno_code(err);
}

const char *ct_last_error_message(void) { return last_error; }

const char *ct_err_name(int code) {
    switch (code) {
#define CT__ERRNO_NAME(name, value, msg) \
    case value: return "CT_" #name;
        CT_ERRNO_MAP(CT__ERRNO_NAME)
#undef CT__ERRNO_NAME
    default: return "CT_EUNKNOWN";
    }
}

const char *ct_intensity_kind_name(ct_intensity_kind kind) {
    switch (kind) {
    case CT_INTENSITY_DEFAULT: return "default";
    case CT_INTENSITY_STATIC: return "static";
    case CT_INTENSITY_FIXED: return "fixed";
    case CT_INTENSITY_LIVE: return "live";
    case CT_INTENSITY_FORECAST: return "forecast";
    }
    return "unknown";
}

const char *ct_strerror(int code) {
    switch (code) {
#define CT__ERRNO_CASE(name, value, msg) \
    case value: return msg;
        CT_ERRNO_MAP(CT__ERRNO_CASE)
#undef CT__ERRNO_CASE
    default: return "unknown error";
    }
}

const char *ct_version(void) { return CT_VERSION; }

const char *ct_features(void) { return CT_FEATURES_STRING; }

const char *ct_component_name(ct_component c) {
    switch (c) {
    case CT_COMPONENT_CPU: return "cpu";
    case CT_COMPONENT_GPU: return "gpu";
    default: return "unknown";
    }
}

size_t ct_sizeof(const char *type_name) {
    static const struct {
        const char *name;
        size_t size;
    } sizes[] = {
        {"ct_config", sizeof(ct_config)},
        {"ct_result", sizeof(ct_result)},
        {"ct_epoch_info", sizeof(ct_epoch_info)},
        {"ct_status", sizeof(ct_status)},
        {"ct_device_desc", sizeof(ct_device_desc)},
        {"ct_run_info", sizeof(ct_run_info)},
        {"ct_runs_total", sizeof(ct_runs_total)},
        {"ct_plan_result", sizeof(ct_plan_result)},
        {"ct_job_node_info", sizeof(ct_job_node_info)},
        {"ct_job_step_info", sizeof(ct_job_step_info)},
    };
    if (!type_name) return 0;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        if (strcmp(sizes[i].name, type_name) == 0) return sizes[i].size;
    return 0;
}
