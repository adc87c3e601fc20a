/* Options: the original's defaults, validation, and the tracker's own copy. */
#include "core/core.h"
#include "intensity/intensity.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void ct_config_init(ct_config *cfg) {
    if (!cfg) return;
    memset(cfg, 0, sizeof *cfg);
    cfg->epochs = 0; /* required: the caller sets it */
    cfg->epochs_before_pred = 1;
    cfg->monitor_epochs = -1;
    cfg->update_interval = 1.0;
    cfg->interpretable = 1;
    cfg->stop_and_confirm = 0;
    cfg->ignore_errors = 0;
    cfg->components = "all";
    cfg->devices_by_pid = 0;
    cfg->log_dir = NULL;
    cfg->log_file_prefix = "";
    cfg->verbose = 1;
    cfg->decimal_precision = 12;
    cfg->sim_cpu_util = 0.5;
    cfg->sim_gpu_util = 0.5;
    cfg->pue = 1.58;
    cfg->carbon_intensity = -1.0;
    cfg->latitude = NAN;
    cfg->longitude = NAN;
    cfg->intensity_refresh_s = 900.0;
    cfg->rapl_zones = "auto";
    cfg->status_line = 0; /* off in-process: it would write into the training's own output; the CLI draws its own */
}

/* Parses "all", "cpu", "gpu", "cpu,gpu", "gpu,cpu" (spaces and case ignored). */
int ct__parse_components(const char *spec, int want[CT_COMPONENT_COUNT], char *msg, size_t len) {
    want[CT_COMPONENT_CPU] = want[CT_COMPONENT_GPU] = 0;
    if (!spec || !*spec) spec = "all";
    char buf[64], shown[96];
    size_t n = 0;
    for (const char *p = spec; *p && n + 1 < sizeof buf; p++)
        if (*p != ' ') buf[n++] = (char)((*p >= 'A' && *p <= 'Z') ? *p + 32 : *p);
    buf[n] = '\0';
    if (strlen(spec) >= sizeof buf) goto bad;
    char *save = NULL;
    int any = 0;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (strcmp(tok, "all") == 0) want[CT_COMPONENT_CPU] = want[CT_COMPONENT_GPU] = 1;
        else if (strcmp(tok, "cpu") == 0) want[CT_COMPONENT_CPU] = 1;
        else if (strcmp(tok, "gpu") == 0) want[CT_COMPONENT_GPU] = 1;
        else goto bad;
        any = 1;
    }
    if (any) return 0;
bad:
    snprintf(msg, len, "unknown components \"%s\": use \"all\", \"cpu\", \"gpu\" or \"cpu,gpu\"",
             ct__printable(spec, shown, sizeof shown));
    return CT_EINVAL;
}

#define CT__FAIL(...)                    \
    do {                                 \
        snprintf(msg, len, __VA_ARGS__); \
        return CT_EINVAL;                \
    } while (0)

static int check_values(const ct_config *c, char *msg, size_t len) {
    int want[CT_COMPONENT_COUNT];
    char shown[96]; /* a user's string in a message: escape codes shown, not sent to the terminal */
    if (c->epochs < 1) CT__FAIL("epochs must be at least 1 (got %d)", c->epochs);
    if (c->epochs_before_pred < -1)
        CT__FAIL("epochs_before_pred must be -1 (all), 0 (no prediction) or positive (got %d)", c->epochs_before_pred);
    if (c->monitor_epochs == 0 || c->monitor_epochs < -1)
        CT__FAIL("monitor_epochs must be -1 (all) or positive (got %d)", c->monitor_epochs);
    int before = c->epochs_before_pred == -1 ? c->epochs : c->epochs_before_pred;
    int monitor = c->monitor_epochs == -1 ? c->epochs : c->monitor_epochs;
    if (monitor < before)
        CT__FAIL("monitor_epochs (%d) must be greater than or equal to epochs_before_pred (%d)", monitor, before);
    if (!(c->update_interval > 0) || !isfinite(c->update_interval))
        CT__FAIL("update_interval must be a positive number of seconds (got %g)", c->update_interval);
    if (c->verbose < 0 || c->verbose > 2) CT__FAIL("verbose must be 0, 1 or 2 (got %d)", c->verbose);
    if (c->decimal_precision < 0 || c->decimal_precision > 30)
        CT__FAIL("decimal_precision must be between 0 and 30 (got %d)", c->decimal_precision);
    if (!(c->pue >= 1.0) || !isfinite(c->pue)) CT__FAIL("pue must be a number >= 1 (got %g)", c->pue);
    if (ct__parse_components(c->components, want, msg, len) != 0) return CT_EINVAL;
    if (c->sim_cpu && !(c->sim_cpu_tdp > 0))
        CT__FAIL("sim_cpu \"%s\" needs sim_cpu_tdp, the simulated CPU's TDP in W (> 0)",
                 ct__printable(c->sim_cpu, shown, sizeof shown));
    if (c->sim_gpu && !(c->sim_gpu_watts > 0))
        CT__FAIL("sim_gpu \"%s\" needs sim_gpu_watts, the simulated GPU's power in W (> 0)",
                 ct__printable(c->sim_gpu, shown, sizeof shown));
    if (c->sim_cpu && !(c->sim_cpu_util >= 0 && c->sim_cpu_util <= 1))
        CT__FAIL("sim_cpu_util must be between 0 and 1 (got %g)", c->sim_cpu_util);
    if (c->sim_gpu && !(c->sim_gpu_util >= 0 && c->sim_gpu_util <= 1))
        CT__FAIL("sim_gpu_util must be between 0 and 1 (got %g)", c->sim_gpu_util);
    if (!isnan(c->carbon_intensity) && c->carbon_intensity >= 0 && !isfinite(c->carbon_intensity))
        CT__FAIL("carbon_intensity must be a finite gCO2eq/kWh value");
    if (c->max_energy_kwh < 0 || c->max_co2_g < 0) CT__FAIL("budgets must be >= 0 (0 = no budget)");
    if (!(c->intensity_refresh_s > 0)) CT__FAIL("intensity_refresh_s must be > 0 seconds");
    if (c->rapl_zones && strcasecmp(c->rapl_zones, "auto") != 0 && strcasecmp(c->rapl_zones, "psys") != 0)
        CT__FAIL("rapl_zones must be \"auto\" (packages + dram) or \"psys\" (the platform zone), got \"%s\"",
                 ct__printable(c->rapl_zones, shown, sizeof shown));
    if (c->status_line < -1 || c->status_line > 1) CT__FAIL("status_line must be -1 (auto), 0 or 1");
    return 0;
}

void ct__config_free(ct_config *c) {
    free((char *)c->components);
    free((char *)c->log_dir);
    free((char *)c->log_file_prefix);
    free((char *)c->sim_cpu);
    free((char *)c->sim_gpu);
    free((char *)c->country);
    free((char *)c->zone);
    free((char *)c->postcode);
    free((char *)c->cloud_provider);
    free((char *)c->cloud_region);
    /* electricitymaps_key is borrowed, never copied: see ct__config_resolve */
    free((char *)c->electricitymaps_key_file);
    free((char *)c->rapl_zones);
    memset(c, 0, sizeof *c);
}

/* The tracker's own copy of the options: validated, defaults filled in, the
 * country resolved to alpha-2 (from the option or CT_COUNTRY), every string
 * copied except the API key (borrowed, see below). On any failure out is left empty (all NULL: safe to free) and
 * nothing is leaked; out never holds a pointer it does not own. */
int ct__config_resolve(const ct_config *in, ct_config *out, char *msg, size_t len) {
    memset(out, 0, sizeof *out);
    int rc = check_values(in, msg, len);
    if (rc) return rc;
    const char *country = in->country ? in->country : ct__env(CT__ENV_COUNTRY);
    char cc[3] = {0};
    if (country) {
        char why[400];
        if (ct__country_resolve(country, cc, why, sizeof why) != 0) {
            snprintf(msg, len, "%s%s", in->country ? "country: " : "CT_COUNTRY: ", why);
            return CT_EINVAL;
        }
    }
    ct_config r = *in;
    if (r.epochs_before_pred == -1) r.epochs_before_pred = r.epochs;
    if (r.monitor_epochs == -1) r.monitor_epochs = r.epochs;
    if (r.monitor_epochs > r.epochs) r.monitor_epochs = r.epochs;
    if (r.epochs_before_pred > r.monitor_epochs) r.epochs_before_pred = r.monitor_epochs;
    const char *strs[] = {in->components ? in->components : "all",
                          in->log_dir,
                          in->log_file_prefix ? in->log_file_prefix : "",
                          in->sim_cpu,
                          in->sim_gpu,
                          cc[0] ? cc : NULL,
                          in->zone,
                          in->postcode,
                          in->cloud_provider,
                          in->cloud_region,
                          in->electricitymaps_key_file,
                          in->rapl_zones ? in->rapl_zones : "auto"};
    const char **dst[] = {&r.components,
                          &r.log_dir,
                          &r.log_file_prefix,
                          &r.sim_cpu,
                          &r.sim_gpu,
                          &r.country,
                          &r.zone,
                          &r.postcode,
                          &r.cloud_provider,
                          &r.cloud_region,
                          &r.electricitymaps_key_file,
                          &r.rapl_zones};
    _Static_assert(sizeof strs / sizeof strs[0] == sizeof dst / sizeof dst[0], "one destination per string");
    /* Borrowed pointers out of r before any copy, so a failure frees only copies. */
    for (size_t i = 0; i < sizeof dst / sizeof dst[0]; i++) *dst[i] = NULL;
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
        if (strs[i] && !(*dst[i] = ct__strdup(strs[i]))) {
            ct__config_free(&r);
            snprintf(msg, len, "out of memory copying options");
            return CT_ENOMEM;
        }
    }
    if (ct__env(CT__ENV_OFFLINE) && strcmp(ct__env(CT__ENV_OFFLINE), "0") != 0) r.offline = 1;
    /* The API key is not copied onto the heap (it would stay readable there,
     * and in core dumps, for the tracker's life): the caller's string is
     * borrowed, valid until ct_tracker_new returns; the intensity layer reads
     * it into its protected page at open and the tracker then drops it. */
    r.electricitymaps_key = in->electricitymaps_key;
    *out = r;
    return 0;
}
