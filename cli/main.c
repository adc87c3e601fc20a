/* carbontracker - the command-line tool. Options and dispatch; uses only the
 * public API (include/carbontracker.h).
 *
 * The original's command line works unchanged: `carbontracker python
 * train.py` (no `--` needed), `--log_dir` (default ./logs), `--api_keys`,
 * `--sim-cpu ...`, `--parse DIR`, `--report LOG --output PDF`, and no command
 * at all. Every option may be written with '-' or '_' between words. */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fputs(
        "Usage: carbontracker [options] [--] COMMAND [ARGS...]\n"
        "       carbontracker parse DIR... [--format text|json|csv] [--latex]   (also --parse DIR)\n"
        "       carbontracker report RUN -o report.pdf|.png|.svg                (also --report LOG [--output FILE])\n"
        "       carbontracker plan --duration 6h [--within 48h] [location options] [--json]\n"
        "       carbontracker exporter [--listen 127.0.0.1:9464] [--textfile PATH] [--runs DIR]  (Prometheus)\n"
        "\n"
        "Runs COMMAND (no shell) as a training, measures the energy of CPU, DRAM and GPUs while it runs,\n"
        "and prints its energy and carbon footprint. Exits with COMMAND's exit code (128+N if killed by signal N).\n"
        "Options end at the first word that is not one (or at --). Without a COMMAND an empty run is measured.\n"
        "\n"
        "Measurement:\n"
        "  --components all|cpu|gpu|cpu,gpu   components to measure (default all)\n"
        "  --update-interval S                seconds between background measurements (default 1)\n"
        "  --devices-by-pid                   only GPUs running this command's processes\n"
        "  --rapl-zones auto|psys             RAPL zones: packages+dram (default) or the platform zone\n"
        "  --all-ranks                        measure on every rank, not only local rank 0\n"
        "  --sim-cpu NAME --sim-cpu-tdp W [--sim-cpu-util U]     simulated CPU (power = W x U)\n"
        "  --sim-gpu NAME --sim-gpu-watts W [--sim-gpu-util U]   simulated GPU\n"
        "Epochs and prediction:\n"
        "  --epochs N                         epochs of the training (default 1: the whole command)\n"
        "  --epochs-before-pred N             epochs before the prediction (default 1; -1 all, 0 none;\n"
        "                                     no prediction when the training is one epoch)\n"
        "  --monitor-epochs N                 epochs monitored (default -1: all)\n"
        "  --epoch-preset NAME                epochs from a framework's output: keras, lightning,\n"
        "                                     transformers, ultralytics, or auto\n"
        "  --epoch-pattern REGEX              an output line matching REGEX (POSIX ERE) starts an epoch; lines end\n"
        "                                     at \\n or \\r, ANSI codes are ignored; with a (group), a new epoch\n"
        "                                     starts only when the group's text changes\n"
        "  --epoch-end-pattern REGEX          an output line matching REGEX ends an epoch\n"
        "  --stop-and-confirm                 after the prediction, pause the command and ask whether to go on\n"
        "Carbon:\n"
        "  --country CC                       country: ISO 3166-1 alpha-2/alpha-3 code or English name (default: env\n"
        "                                     CT_COUNTRY, else world average)\n"
        "  --carbon-intensity G               fixed carbon intensity, gCO2eq/kWh (>= 0)\n"
        "  --pue X                            power usage effectiveness (default 1.58)\n"
        "  --zone Z --postcode PC --lat X --lon Y --cloud PROVIDER:REGION   location for live intensity\n"
        "  --offline                          no network at all\n"
        "  --electricitymaps-key-file F       file holding the Electricity Maps key (not readable by others)\n"
        "  --api_keys JSON                    e.g. '{\"electricitymaps\": \"KEY\"}' (the original's option; the key "
        "is\n"
        "                                     then visible in the process list: prefer CT_ELECTRICITYMAPS_KEY or a key "
        "file)\n"
        "                                     The key is never passed on to COMMAND's environment.\n"
        "Budgets:\n"
        "  --max-energy-kwh X --max-co2-g X   budgets checked against the prediction and the actual\n"
        "  --on-budget warn|stop              warn (default) or stop the command (SIGTERM, SIGKILL after --grace S)\n"
        "Output:\n"
        "  --log_dir DIR                      where the log files go (text logs + JSON Lines; default ./logs)\n"
        "  --no-logs                          write no log files\n"
        "  --log_file_prefix P                prefix of the log file names\n"
        "  --verbose 0|1|2                    (default 1)\n"
        "  --decimal-precision N              digits after the point (default 12)\n"
        "  --no-interpretable                 do not print km-by-car equivalents\n"
        "  --pty auto|always|never            run COMMAND on a pseudo-terminal: when the output is a terminal\n"
        "                                     (auto, default), also into a pipe or file (always), or never\n"
        "  --no-status-line                   no status line on the terminal's last row\n"
        "  --ignore-errors                    internal errors stop monitoring, never the command\n"
        "  -h, --help                         this help\n"
        "  --version                          version and compiled-in features\n",
        f);
}

enum opt_kind { K_FLAG, K_STR, K_NUM, K_INT };

enum opt_id {
    O_HELP,
    O_VERSION,
    O_DEVICES_BY_PID,
    O_ALL_RANKS,
    O_OFFLINE,
    O_NO_INTERPRETABLE,
    O_IGNORE_ERRORS,
    O_STOP_AND_CONFIRM,
    O_NO_LOGS,
    O_NO_STATUS_LINE,
    O_LOG_DIR,
    O_LOG_FILE_PREFIX,
    O_COMPONENTS,
    O_UPDATE_INTERVAL,
    O_RAPL_ZONES,
    O_SIM_CPU,
    O_SIM_CPU_TDP,
    O_SIM_CPU_UTIL,
    O_SIM_GPU,
    O_SIM_GPU_WATTS,
    O_SIM_GPU_UTIL,
    O_EPOCHS,
    O_EPOCHS_BEFORE_PRED,
    O_MONITOR_EPOCHS,
    O_EPOCH_PATTERN,
    O_EPOCH_END_PATTERN,
    O_EPOCH_PRESET,
    O_COUNTRY,
    O_CARBON_INTENSITY,
    O_PUE,
    O_ZONE,
    O_POSTCODE,
    O_LAT,
    O_LON,
    O_CLOUD,
    O_API_KEYS,
    O_KEY_FILE,
    O_MAX_ENERGY,
    O_MAX_CO2,
    O_ON_BUDGET,
    O_GRACE,
    O_VERBOSE,
    O_DECIMAL_PRECISION,
    O_PTY,
    O_PARSE,
    O_REPORT,
    O_OUTPUT,
    N_OPTS
};

/* name: as --help writes it; field: the library's name for it, which its
 * messages use ("monitor_epochs must be ...") and which the tool replaces
 * with the flag the user typed. */
static const struct opt {
    const char *name;
    int kind;
    int id;
    const char *field;
} opts[] = {
    {"--help", K_FLAG, O_HELP, NULL},
    {"--version", K_FLAG, O_VERSION, NULL},
    {"--devices-by-pid", K_FLAG, O_DEVICES_BY_PID, "devices_by_pid"},
    {"--all-ranks", K_FLAG, O_ALL_RANKS, "all_ranks"},
    {"--offline", K_FLAG, O_OFFLINE, NULL},
    {"--no-interpretable", K_FLAG, O_NO_INTERPRETABLE, NULL},
    {"--ignore-errors", K_FLAG, O_IGNORE_ERRORS, NULL},
    {"--stop-and-confirm", K_FLAG, O_STOP_AND_CONFIRM, "stop_and_confirm"},
    {"--no-logs", K_FLAG, O_NO_LOGS, NULL},
    {"--no-status-line", K_FLAG, O_NO_STATUS_LINE, NULL},
    {"--log_dir", K_STR, O_LOG_DIR, "log_dir"},
    {"--log_file_prefix", K_STR, O_LOG_FILE_PREFIX, "log_file_prefix"},
    {"--components", K_STR, O_COMPONENTS, "components"},
    {"--update-interval", K_NUM, O_UPDATE_INTERVAL, "update_interval"},
    {"--rapl-zones", K_STR, O_RAPL_ZONES, "rapl_zones"},
    {"--sim-cpu", K_STR, O_SIM_CPU, "sim_cpu"},
    {"--sim-cpu-tdp", K_NUM, O_SIM_CPU_TDP, "sim_cpu_tdp"},
    {"--sim-cpu-util", K_NUM, O_SIM_CPU_UTIL, "sim_cpu_util"},
    {"--sim-gpu", K_STR, O_SIM_GPU, "sim_gpu"},
    {"--sim-gpu-watts", K_NUM, O_SIM_GPU_WATTS, "sim_gpu_watts"},
    {"--sim-gpu-util", K_NUM, O_SIM_GPU_UTIL, "sim_gpu_util"},
    {"--epochs", K_INT, O_EPOCHS, "epochs"},
    {"--epochs-before-pred", K_INT, O_EPOCHS_BEFORE_PRED, "epochs_before_pred"},
    {"--monitor-epochs", K_INT, O_MONITOR_EPOCHS, "monitor_epochs"},
    {"--epoch-pattern", K_STR, O_EPOCH_PATTERN, NULL},
    {"--epoch-end-pattern", K_STR, O_EPOCH_END_PATTERN, NULL},
    {"--epoch-preset", K_STR, O_EPOCH_PRESET, NULL},
    {"--country", K_STR, O_COUNTRY, "country"},
    {"--carbon-intensity", K_NUM, O_CARBON_INTENSITY, "carbon_intensity"},
    {"--pue", K_NUM, O_PUE, "pue"},
    {"--zone", K_STR, O_ZONE, "zone"},
    {"--postcode", K_STR, O_POSTCODE, "postcode"},
    {"--lat", K_NUM, O_LAT, "latitude"},
    {"--lon", K_NUM, O_LON, "longitude"},
    {"--cloud", K_STR, O_CLOUD, NULL},
    {"--api_keys", K_STR, O_API_KEYS, NULL},
    {"--electricitymaps-key-file", K_STR, O_KEY_FILE, "electricitymaps_key_file"},
    {"--max-energy-kwh", K_NUM, O_MAX_ENERGY, "max_energy_kwh"},
    {"--max-co2-g", K_NUM, O_MAX_CO2, "max_co2_g"},
    {"--on-budget", K_STR, O_ON_BUDGET, NULL},
    {"--grace", K_NUM, O_GRACE, NULL},
    {"--verbose", K_INT, O_VERBOSE, "verbose"},
    {"--decimal-precision", K_INT, O_DECIMAL_PRECISION, "decimal_precision"},
    {"--pty", K_STR, O_PTY, NULL},
    {"--parse", K_STR, O_PARSE, NULL},
    {"--report", K_STR, O_REPORT, NULL},
    {"--output", K_STR, O_OUTPUT, NULL},
};
#define N_OPT_ROWS ((int)(sizeof opts / sizeof opts[0]))

/* "--Log_Dir" and "--log-dir" are the same option: '_' as '-'. */
static void normalize(const char *in, size_t n, char *out, size_t len) {
    size_t k = 0;
    for (size_t i = 0; i < n && k + 1 < len; i++) out[k++] = in[i] == '_' ? '-' : in[i];
    out[k] = '\0';
}

static const struct opt *find_opt(const char *name) {
    char a[64], b[64];
    normalize(name, strlen(name), a, sizeof a);
    for (int i = 0; i < N_OPT_ROWS; i++) {
        normalize(opts[i].name, strlen(opts[i].name), b, sizeof b);
        if (strcmp(a, b) == 0) return &opts[i];
    }
    return NULL;
}

static size_t edit_distance(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63) return 99;
    size_t row[64];
    for (size_t j = 0; j <= lb; j++) row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best) best = up + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

/* The option nearest to a mistyped one, or NULL when none is near. */
static const char *nearest_opt(const char *typed) {
    char a[64], b[64];
    normalize(typed, strlen(typed), a, sizeof a);
    const char *best = NULL;
    size_t bd = 99;
    for (int i = 0; i < N_OPT_ROWS; i++) {
        normalize(opts[i].name, strlen(opts[i].name), b, sizeof b);
        size_t d = edit_distance(a, b);
        if (d < bd) bd = d, best = opts[i].name;
    }
    size_t allowed = strlen(a) > 12 ? 3 : 2;
    return bd <= allowed ? best : NULL;
}

typedef struct cli_state {
    const char *typed[N_OPTS]; /* each option as the user wrote it (without =VALUE) */
    char typed_buf[N_OPTS][64];
} cli_state;

static const char *flag_of(const cli_state *s, int id) {
    for (int i = 0; i < N_OPT_ROWS; i++)
        if (opts[i].id == id) return s->typed[id] ? s->typed[id] : opts[i].name;
    return "?";
}

/* The library names its options as the struct fields do; the user typed
 * flags: "monitor_epochs (2) must be ..." becomes "--monitor-epochs (2) ...". */
static void say_in_flags(const cli_state *s, const char *msg, char *out, size_t len) {
    size_t k = 0;
    const char *p = msg;
    while (*p && k + 1 < len) {
        int replaced = 0;
        int at_word = p == msg || !(p[-1] == '_' || (p[-1] >= 'a' && p[-1] <= 'z') || (p[-1] >= '0' && p[-1] <= '9'));
        for (int i = 0; at_word && i < N_OPT_ROWS; i++) {
            const char *f = opts[i].field;
            if (!f) continue;
            size_t fl = strlen(f);
            char after = p[fl];
            if (strncmp(p, f, fl) == 0 &&
                !(after == '_' || (after >= 'a' && after <= 'z') || (after >= '0' && after <= '9'))) {
                const char *flag = flag_of(s, opts[i].id);
                size_t n = strlen(flag);
                if (k + n >= len) n = len - 1 - k;
                memcpy(out + k, flag, n);
                k += n;
                p += fl;
                replaced = 1;
                break;
            }
        }
        if (!replaced) out[k++] = *p++;
    }
    out[k] = '\0';
}

static void say_in_flags_cb(const void *ctx, const char *msg, char *out, size_t len) {
    say_in_flags((const cli_state *)ctx, msg, out, len);
}

/* Parses a number; exits with a message on garbage. */
static double num_arg(const char *opt, const char *v) {
    char *end = NULL;
    errno = 0;
    double d = strtod(v, &end);
    if (!v[0] || *end || errno == ERANGE || !isfinite(d)) {
        fprintf(stderr, "carbontracker: %s needs a number, got \"%s\"\n", opt, v);
        exit(2);
    }
    return d;
}

static int int_arg(const char *opt, const char *v) {
    double d = num_arg(opt, v);
    if (d != floor(d) || d < -2147483647.0 || d > 2147483647.0) {
        fprintf(stderr, "carbontracker: %s needs an integer, got \"%s\"\n", opt, v);
        exit(2);
    }
    return (int)d;
}

/* The "electricitymaps" key from the original's --api_keys, a JSON object or
 * a Python dict ('...' quotes; the original reads it with ast.literal_eval),
 * without echoing it. */
static char *api_key_from_json(const char *json) {
    const char *k = strstr(json, "electricitymaps");
    if (!k) return NULL;
    k += strlen("electricitymaps");
    while (*k == '"' || *k == '\'' || *k == '\\' || *k == ' ') k++;
    if (*k != ':') return NULL;
    k++;
    while (*k == ' ' || *k == '\\') k++;
    char q = *k;
    if (q != '"' && q != '\'') return NULL;
    const char *e = strchr(k + 1, q);
    if (!e) return NULL;
    size_t n = (size_t)(e - k - 1);
    while (n > 0 && k[n] == '\\') n--; /* {\"electricitymaps\": \"KEY\"} as the original's docs write it */
    if (n == 0) return NULL;
    char *s = malloc(n + 1);
    if (!s) return NULL;
    memcpy(s, k + 1, n);
    s[n] = '\0';
    return s;
}

static int run_parse(const char *dir) {
    char *a[] = {"--parse", (char *)dir, NULL};
    return ct_cli_parse(2, a);
}

static int run_report(const char *log, const char *out) {
    char *a[] = {"--report", (char *)log, "--output", (char *)(out ? out : "carbon_report.pdf"), NULL};
    return ct_cli_report(4, a);
}

static int main_wrap(int argc, char **argv) {
    ct_config cfg;
    ct_config_init(&cfg);
    cfg.epochs = 1;
    cfg.log_dir = "./logs"; /* the original's default */
    ct_wrap_opts w = {.grace_s = 10.0, .pty = -1, .status_line = 1};
    static cli_state st;
    memset(&st, 0, sizeof st);
    char *api_key = NULL, *cloud = NULL;
    const char *parse_dir = NULL, *report_log = NULL, *report_out = NULL;
    int rc = 2; /* wrong usage unless we get to run the command */
    int i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        }
        if (a[0] != '-' || a[1] == '\0') break; /* the command starts here, like the original */
        if (strcmp(a, "-h") == 0) a = "--help";
        const char *eq = strchr(a, '=');
        size_t nlen = eq ? (size_t)(eq - a) : strlen(a);
        char name[64];
        snprintf(name, sizeof name, "%.*s", (int)(nlen < 63 ? nlen : 63), a);
        const struct opt *o = a[1] == '-' ? find_opt(name) : NULL;
        if (!o) {
            const char *near = a[1] == '-' ? nearest_opt(name) : NULL;
            if (near) fprintf(stderr, "carbontracker: unknown option %s; did you mean %s? (see --help)\n", name, near);
            else fprintf(stderr, "carbontracker: unknown option %s (see --help)\n", name);
            goto out;
        }
        snprintf(st.typed_buf[o->id], sizeof st.typed_buf[o->id], "%s", name);
        st.typed[o->id] = st.typed_buf[o->id];
        const char *flag = st.typed[o->id];
        const char *val = NULL;
        if (o->kind == K_FLAG) {
            if (eq) {
                fprintf(stderr, "carbontracker: %s takes no value\n", flag);
                goto out;
            }
        } else if (eq) {
            val = eq + 1;
        } else if (i + 1 < argc) {
            val = argv[++i];
        } else {
            fprintf(stderr, "carbontracker: option %s needs a value (see --help)\n", flag);
            goto out;
        }
        switch (o->id) {
        case O_HELP:
            usage(stdout);
            rc = 0;
            goto out;
        case O_VERSION: {
            const char *f = ct_features();
            printf("carbontracker %s\nfeatures: %s\n", ct_version(), f && *f ? f : "(none: core only)");
            rc = 0;
            goto out;
        }
        case O_DEVICES_BY_PID: cfg.devices_by_pid = 1; break;
        case O_ALL_RANKS: cfg.all_ranks = 1; break;
        case O_OFFLINE: cfg.offline = 1; break;
        case O_NO_INTERPRETABLE: cfg.interpretable = 0; break;
        case O_IGNORE_ERRORS: cfg.ignore_errors = 1; break;
        case O_STOP_AND_CONFIRM: cfg.stop_and_confirm = 1; break;
        case O_NO_LOGS: cfg.log_dir = NULL; break;
        case O_NO_STATUS_LINE: w.status_line = 0; break;
        case O_LOG_DIR: cfg.log_dir = val[0] ? val : NULL; break;
        case O_LOG_FILE_PREFIX: cfg.log_file_prefix = val; break;
        case O_COMPONENTS: cfg.components = val; break;
        case O_UPDATE_INTERVAL: cfg.update_interval = num_arg(flag, val); break;
        case O_RAPL_ZONES: cfg.rapl_zones = val; break;
        case O_SIM_CPU: cfg.sim_cpu = val; break;
        case O_SIM_CPU_TDP: cfg.sim_cpu_tdp = num_arg(flag, val); break;
        case O_SIM_CPU_UTIL: cfg.sim_cpu_util = num_arg(flag, val); break;
        case O_SIM_GPU: cfg.sim_gpu = val; break;
        case O_SIM_GPU_WATTS: cfg.sim_gpu_watts = num_arg(flag, val); break;
        case O_SIM_GPU_UTIL: cfg.sim_gpu_util = num_arg(flag, val); break;
        case O_EPOCHS: cfg.epochs = int_arg(flag, val); break;
        case O_EPOCHS_BEFORE_PRED: cfg.epochs_before_pred = int_arg(flag, val); break;
        case O_MONITOR_EPOCHS: cfg.monitor_epochs = int_arg(flag, val); break;
        case O_EPOCH_PATTERN: w.epoch_pattern = val; break;
        case O_EPOCH_END_PATTERN: w.epoch_end_pattern = val; break;
        case O_EPOCH_PRESET: w.epoch_preset = val; break;
        case O_COUNTRY: cfg.country = val; break;
        case O_CARBON_INTENSITY:
            cfg.carbon_intensity = num_arg(flag, val);
            if (cfg.carbon_intensity < 0) {
                fprintf(stderr, "carbontracker: %s must be a carbon intensity >= 0 gCO2eq/kWh, got %s\n", flag, val);
                goto out;
            }
            break;
        case O_PUE: cfg.pue = num_arg(flag, val); break;
        case O_ZONE: cfg.zone = val; break;
        case O_POSTCODE: cfg.postcode = val; break;
        case O_LAT: cfg.latitude = num_arg(flag, val); break;
        case O_LON: cfg.longitude = num_arg(flag, val); break;
        case O_CLOUD: {
            free(cloud);
            cloud = strdup(val);
            char *colon = cloud ? strchr(cloud, ':') : NULL;
            if (!colon) {
                fprintf(stderr, "carbontracker: %s needs PROVIDER:REGION, e.g. gcp:europe-west1\n", flag);
                goto out;
            }
            *colon = '\0';
            cfg.cloud_provider = cloud;
            cfg.cloud_region = colon + 1;
            break;
        }
        case O_API_KEYS:
            free(api_key);
            api_key = api_key_from_json(val);
            if (!api_key) {
                fprintf(stderr, "carbontracker: %s needs a JSON object like '{\"electricitymaps\": \"KEY\"}'\n", flag);
                goto out;
            }
            cfg.electricitymaps_key = api_key;
            /* Blank our copy in the argument vector so /proc/PID/cmdline stops showing it. */
            memset((char *)val, 'x', strlen(val));
            fprintf(stderr,
                    "carbontracker: warning: %s puts the key in the process list, visible to other users; "
                    "use CT_ELECTRICITYMAPS_KEY or --electricitymaps-key-file instead\n",
                    flag);
            break;
        case O_KEY_FILE: cfg.electricitymaps_key_file = val; break;
        case O_MAX_ENERGY:
        case O_MAX_CO2: {
            double b = num_arg(flag, val);
            if (b < 0) {
                fprintf(stderr, "carbontracker: %s must be >= 0 (0 = no budget), got %s\n", flag, val);
                goto out;
            }
            *(o->id == O_MAX_ENERGY ? &cfg.max_energy_kwh : &cfg.max_co2_g) = b;
            break;
        }
        case O_ON_BUDGET:
            if (strcmp(val, "warn") == 0) w.on_budget_stop = 0;
            else if (strcmp(val, "stop") == 0) w.on_budget_stop = 1;
            else {
                fprintf(stderr, "carbontracker: %s must be warn or stop, got \"%s\"\n", flag, val);
                goto out;
            }
            break;
        case O_GRACE: w.grace_s = num_arg(flag, val); break;
        case O_VERBOSE: cfg.verbose = int_arg(flag, val); break;
        case O_DECIMAL_PRECISION: cfg.decimal_precision = int_arg(flag, val); break;
        case O_PTY:
            if (strcmp(val, "auto") == 0) w.pty = -1;
            else if (strcmp(val, "always") == 0) w.pty = 1;
            else if (strcmp(val, "never") == 0) w.pty = 0;
            else {
                fprintf(stderr, "carbontracker: %s must be auto, always or never, got \"%s\"\n", flag, val);
                goto out;
            }
            break;
        case O_PARSE: parse_dir = val; break;
        case O_REPORT: report_log = val; break;
        case O_OUTPUT: report_out = val; break;
        default: break;
        }
    }
    /* The original's --parse and --report may come after other options. */
    if (parse_dir) {
        rc = run_parse(parse_dir);
        goto out;
    }
    if (report_log) {
        rc = run_report(report_log, report_out);
        goto out;
    }
    if (report_out) {
        fprintf(stderr, "carbontracker: %s goes with --report LOG\n", flag_of(&st, O_OUTPUT));
        goto out;
    }
    if (cfg.epochs > 1 && !w.epoch_pattern && !w.epoch_end_pattern && !w.epoch_preset) {
        fprintf(stderr,
                "carbontracker: %s %d needs --epoch-preset, --epoch-pattern or --epoch-end-pattern to find the "
                "epochs\n",
                flag_of(&st, O_EPOCHS), cfg.epochs);
        goto out;
    }
    /* One epoch: the prediction would only repeat the actual consumption. */
    if (!st.typed[O_EPOCHS_BEFORE_PRED] && cfg.epochs == 1) cfg.epochs_before_pred = 0;
    w.epochs_flag = flag_of(&st, O_EPOCHS);
    w.say_flags = say_in_flags_cb; /* the library's messages in the user's flags */
    w.say_ctx = &st;
    rc = ct_cli_wrap(&cfg, &w, i < argc ? argv + i : NULL);
out:
    if (api_key) {
        memset(api_key, 0, strlen(api_key));
        free(api_key);
    }
    free(cloud);
    return rc;
}

typedef int (*subcommand_fn)(int argc, char **argv);

/* `carbontracker --report LOG` without --output writes carbon_report.pdf, as the original. */
static int report_original(int argc, char **argv) {
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "-o") == 0 || strncmp(argv[i], "--output", 8) == 0) return ct_cli_report(argc, argv);
    if (argc == 2) return run_report(argv[1], NULL);
    return ct_cli_report(argc, argv);
}

static const struct subcommand {
    const char *name;
    subcommand_fn fn;
} subcommands[] = {
    {"plan", ct_cli_plan},     {"parse", ct_cli_parse},       {"--parse", ct_cli_parse},
    {"report", ct_cli_report}, {"--report", report_original}, {"exporter", ct_cli_exporter},
};

int main(int argc, char **argv) {
    if (argc >= 2)
        for (size_t k = 0; k < sizeof subcommands / sizeof subcommands[0]; k++)
            if (strcmp(argv[1], subcommands[k].name) == 0) return subcommands[k].fn(argc - 1, argv + 1);
    return main_wrap(argc, argv);
}
