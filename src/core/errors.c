/* Error codes and version information. */
#include "ct_internal.h"

const char *ct_strerror(int code) {
    switch (code) {
#define CT__ERRNO_CASE(name, value, msg) \
    case value:                          \
        return msg;
        CT_ERRNO_MAP(CT__ERRNO_CASE)
#undef CT__ERRNO_CASE
    default:
        return "unknown error";
    }
}

const char *ct_version(void) { return CT_VERSION; }

const char *ct_features(void) { return CT_FEATURES_STRING; }

const char *ct_component_name(ct_component c) {
    switch (c) {
    case CT_COMPONENT_CPU:
        return "cpu";
    case CT_COMPONENT_GPU:
        return "gpu";
    default:
        return "unknown";
    }
}

size_t ct_sizeof(const char *type_name) {
    static const struct {
        const char *name;
        size_t size;
    } sizes[] = {
        {"ct_config", sizeof(ct_config)},         {"ct_result", sizeof(ct_result)},
        {"ct_epoch_info", sizeof(ct_epoch_info)}, {"ct_status", sizeof(ct_status)},
        {"ct_device_desc", sizeof(ct_device_desc)}, {"ct_run_info", sizeof(ct_run_info)},
        {"ct_runs_total", sizeof(ct_runs_total)},   {"ct_plan_result", sizeof(ct_plan_result)},
    };
    if (!type_name) return 0;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        if (__builtin_strcmp(sizes[i].name, type_name) == 0) return sizes[i].size;
    return 0;
}
