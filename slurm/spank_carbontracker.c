/*
 * spank_carbontracker.c - SLURM SPANK plugin (issue 13): measures every step
 * of a job on every node it runs on, with no change to the user's program.
 *
 * Enabled per job with `sbatch/srun --carbontracker[=DIR]` (DIR absolute, or
 * relative to the job's working directory; `--carbontracker=off` opts out of a
 * site-wide default), or for every job with the plugin argument `always`.
 * In the remote context (slurmstepd, one per step and node) the plugin
 * creates a tracker (the static carbontracker library, linked in) when the
 * step starts (slurm_spank_init_post_opt, as root, before the tasks are
 * started) and stops it when the step ends (slurm_spank_exit). Each step on
 * each node writes one JSON Lines log (plus the original's two text logs)
 * into DIR/JOBID/, named NODE.STEP_PID.RANDOM_TIME_carbontracker.jsonl, STEP
 * being the step number, "batch" or "interactive"; files are given to the
 * job's user. The directory DIR/JOBID is created by a child process running
 * as the job's user, so a DIR the user cannot write is refused exactly as for
 * the user.
 *
 * The plugin never fails, delays or kills a job: every error is one line in
 * the slurmd log (slurm_error) and the callback returns 0. Register it as
 * `optional` in plugstack.conf.
 *
 * Plugin arguments (plugstack.conf, after the path):
 *   dir=PATH          where `--carbontracker` without DIR (and `always`) writes (default /var/log/carbontracker)
 *   always            measure every job unless it says --carbontracker=off
 *   components=C      all | cpu | gpu (default all; GPUs only when the job was given GPUs, see gpus=)
 *   gpus=allocated|all  GPUs measured: those in the job's CUDA_VISIBLE_DEVICES (default), or every GPU
 *   pue=X  country=CC  intensity=G  interval=S  online   as for a tracker (default offline)
 *   report=comment    when the batch step ends (batch node, root) write the job's totals, from
 *                     `carbontracker parse --job` over DIR (shared by the nodes), into its AdminComment
 *   report=output     ... append them to the job's output file (as the job's user); report=comment,output both
 *   cli=PATH scontrol=PATH   the programs report=comment runs (defaults: the installed CLI, /usr/bin/scontrol)
 * Only the job's own GPUs are measured: the node's RAPL counters are node-level
 * and are the node's whole package and DRAM energy during the step (a shared
 * node's other jobs included; docs/cluster.md).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <slurm/slurm.h>
#include <slurm/spank.h>

#include "carbontracker.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

SPANK_PLUGIN(carbontracker, 1);

/* Exported plugin entry points (the rest of the .so is hidden). */
int slurm_spank_init(spank_t sp, int ac, char **av);
int slurm_spank_init_post_opt(spank_t sp, int ac, char **av);
int slurm_spank_exit(spank_t sp, int ac, char **av);

/* Site settings from the plugin arguments. */
static struct {
    char dir[PATH_MAX];
    int always, online, all_gpus, report_comment, report_output;
    char cli[PATH_MAX], scontrol[PATH_MAX];
    char components[16], country[8];
    double pue, intensity, interval;
} g_site;

/* The job's option, as the option callback saw it (remote context: before init_post_opt). */
static int g_opt_set;
static char g_opt_arg[PATH_MAX];

/* The step being measured by this slurmstepd. */
static ct_tracker *g_tracker;
static uid_t g_uid;
static gid_t g_gid;
static double g_start_ms; /* time the plugin took to start measuring the step */
static uint32_t g_job, g_step;
static double g_busy0;       /* node's busy CPU time at the step's start, s (NAN unknown) */
static double g_children0;   /* slurmstepd's reaped children's CPU time at the start, s */
static char g_dir[PATH_MAX]; /* DIR (the job's logs are in DIR/JOBID) */
static int g_dfd = -1;       /* DIR/JOBID, opened once checked: root writes only into that directory */
static char g_fdpath[64];    /* "/proc/self/fd/N" for g_dfd */

static double mono_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int opt_cb(int val, const char *arg, int remote) {
    (void)val;
    (void)remote;
    g_opt_set = 1;
    snprintf(g_opt_arg, sizeof g_opt_arg, "%s", arg ? arg : "");
    return 0;
}

static struct spank_option g_option = {
    "carbontracker",
    "[DIR|off]",
    "Measure the energy and CO2eq of each step of this job on every node (carbontracker); "
    "logs in DIR/JOBID/ (default: the site's directory); off: do not measure",
    2,
    0,
    opt_cb};

static void parse_args(int ac, char **av) {
    snprintf(g_site.dir, sizeof g_site.dir, "/var/log/carbontracker");
    snprintf(g_site.components, sizeof g_site.components, "all");
    g_site.pue = -1;
    g_site.intensity = -1;
    g_site.interval = 1;
    snprintf(g_site.cli, sizeof g_site.cli, "%s", CT_CLI_PATH);
    snprintf(g_site.scontrol, sizeof g_site.scontrol, "/usr/bin/scontrol");
    for (int i = 0; i < ac; i++) {
        const char *a = av[i];
        if (strncmp(a, "dir=", 4) == 0) snprintf(g_site.dir, sizeof g_site.dir, "%s", a + 4);
        else if (strcmp(a, "always") == 0) g_site.always = 1;
        else if (strcmp(a, "online") == 0) g_site.online = 1;
        else if (strcmp(a, "gpus=all") == 0) g_site.all_gpus = 1;
        else if (strncmp(a, "report=", 7) == 0) {
            g_site.report_comment = strstr(a + 7, "comment") != NULL;
            g_site.report_output = strstr(a + 7, "output") != NULL;
        } else if (strncmp(a, "cli=", 4) == 0) snprintf(g_site.cli, sizeof g_site.cli, "%s", a + 4);
        else if (strncmp(a, "scontrol=", 9) == 0) snprintf(g_site.scontrol, sizeof g_site.scontrol, "%s", a + 9);
        else if (strcmp(a, "gpus=allocated") == 0) g_site.all_gpus = 0;
        else if (strncmp(a, "components=", 11) == 0)
            snprintf(g_site.components, sizeof g_site.components, "%s", a + 11);
        else if (strncmp(a, "country=", 8) == 0) snprintf(g_site.country, sizeof g_site.country, "%s", a + 8);
        else if (strncmp(a, "pue=", 4) == 0) g_site.pue = strtod(a + 4, NULL);
        else if (strncmp(a, "intensity=", 10) == 0) g_site.intensity = strtod(a + 10, NULL);
        else if (strncmp(a, "interval=", 9) == 0) g_site.interval = strtod(a + 9, NULL);
        else slurm_error("carbontracker: unknown plugin argument \"%s\" ignored", a);
    }
}

int slurm_spank_init(spank_t sp, int ac, char **av) {
    g_opt_set = 0; /* the option callback, if the job gave the option, comes after this */
    g_opt_arg[0] = '\0';
    /* Registered in every context, so that sbatch/salloc accept the option too. */
    if (spank_option_register(sp, &g_option) != ESPANK_SUCCESS)
        slurm_error("carbontracker: could not register --carbontracker");
    parse_args(ac, av);
    return 0;
}

/* mkdir -p path as uid/gid, in a child process (the step's privileges stay as they are).
 * Returns 0 or an errno value. */
static int mkdir_as_user(const char *path, uid_t uid, gid_t gid) {
    pid_t pid = fork();
    if (pid < 0) return errno;
    if (pid == 0) {
        if (setgroups(0, NULL) != 0 && getuid() == 0) _exit(EPERM);
        if (setgid(gid) != 0 || setuid(uid) != 0) _exit(EPERM);
        char p[PATH_MAX];
        snprintf(p, sizeof p, "%s", path);
        for (char *s = p + 1;; s++) {
            if (*s == '/' || *s == '\0') {
                char c = *s;
                *s = '\0';
                if (mkdir(p, 0755) != 0 && errno != EEXIST) _exit(errno & 0xff ? errno & 0xff : EIO);
                *s = c;
                if (!c) break;
            }
        }
        struct stat st;
        if (stat(p, &st) != 0 || !S_ISDIR(st.st_mode)) _exit(ENOTDIR);
        if (access(p, W_OK | X_OK) != 0) _exit(errno & 0xff);
        _exit(0);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return errno;
    if (!WIFEXITED(status)) return EIO;
    return WEXITSTATUS(status);
}

/* Marks every descriptor not in `before` close-on-exec, so the user's tasks do not inherit them. */
static void cloexec_new_fds(const unsigned char *before, int nbefore) {
    DIR *d = opendir("/proc/self/fd");
    if (!d) return;
    int dfd = dirfd(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        int fd = atoi(e->d_name);
        if (e->d_name[0] == '.' || fd == dfd) continue;
        if (fd < nbefore && before[fd]) continue;
        int fl = fcntl(fd, F_GETFD);
        if (fl >= 0 && !(fl & FD_CLOEXEC)) fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
    }
    closedir(d);
}

static int snapshot_fds(unsigned char *set, int n) {
    memset(set, 0, (size_t)n);
    DIR *d = opendir("/proc/self/fd");
    if (!d) return -1;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        int fd = atoi(e->d_name);
        if (e->d_name[0] != '.' && fd >= 0 && fd < n) set[fd] = 1;
    }
    closedir(d);
    return 0;
}

/* The node's busy CPU time (user+nice+system+irq+softirq+steal of /proc/stat's "cpu" line), s;
 * NAN when unreadable. /proc is $CT_PROC_ROOT when set (tests). */
static double node_busy_s(void) {
    const char *root = getenv("CT_PROC_ROOT");
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/stat", root && *root ? root : "/proc");
    FILE *f = fopen(path, "re");
    if (!f) return NAN;
    unsigned long long v[8] = {0};
    int n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6],
                   &v[7]);
    fclose(f);
    if (n < 4) return NAN;
    long hz = sysconf(_SC_CLK_TCK);
    return (double)(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / (double)(hz > 0 ? hz : 100);
}

/* CPU time of slurmstepd's reaped children (the step's tasks and what they waited for), s. */
static double children_cpu_s(void) {
    struct rusage ru;
    if (getrusage(RUSAGE_CHILDREN, &ru) != 0) return NAN;
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
           ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) * 1e-6;
}

/* Writes the step's share of the node beside its JSON Lines log, as BASE_attribution.json (one JSON
 * object; BASE is the log's name without _carbontracker.jsonl, so log readers do not take it for a run):
 * the step's tasks' CPU time over the node's busy CPU time during the step, applied to the node-level
 * CPU (package + DRAM) energy; the job's own GPUs count in full. */
static void write_attribution(const char *jsonl, const ct_result *r) {
    double busy = node_busy_s() - g_busy0, cpu = children_cpu_s() - g_children0;
    if (!isfinite(busy) || !isfinite(cpu) || cpu < 0) return;
    double share = busy > 0 ? cpu / busy : 1.0;
    if (share > 1) share = 1;
    static const char SUFFIX[] = "_carbontracker.jsonl";
    size_t jl = strlen(jsonl);
    if (jl < sizeof SUFFIX - 1) return;
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%.*s_attribution.json", (int)(jl - (sizeof SUFFIX - 1)), jsonl);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) {
        slurm_error("carbontracker: cannot write %s: %s", path, strerror(errno));
        return;
    }
    char line[1024];
    int n = snprintf(line, sizeof line,
                     "{\"method\":\"cpu-time-share\",\"share\":%.6g,"
                     "\"step_cpu_s\":%.6g,\"node_busy_cpu_s\":%.6g,\"cpu_j\":%.17g,\"cpu_j_attributed\":%.17g,"
                     "\"gpu_j\":%.17g,\"gpu\":\"the job's own GPUs, in full\"}\n",
                     share, cpu, busy, r->energy_j[0], share * r->energy_j[0], r->energy_j[1]);
    if (n > 0 && (size_t)n < sizeof line && write(fd, line, (size_t)n) != n)
        slurm_error("carbontracker: cannot write %s: %s", path, strerror(errno));
    if (fchown(fd, g_uid, g_gid) != 0) slurm_error("carbontracker: cannot give %s to uid %u", path, (unsigned)g_uid);
    close(fd);
}

static void step_name(uint32_t step, char *buf, size_t len) {
    if (step == SLURM_BATCH_SCRIPT) snprintf(buf, len, "batch");
    else if (step == SLURM_INTERACTIVE_STEP) snprintf(buf, len, "interactive");
    else snprintf(buf, len, "%u", step);
}

/* The node's name: SLURMD_NODENAME of slurmd's own environment (slurmd sets it; slurmstepd
 * inherits it). Not the job's environment: a batch script's SLURMD_NODENAME (its first node)
 * travels with the srun steps it starts. Else the relative node id. */
static void node_name(spank_t sp, char *buf, size_t len) {
    const char *e = getenv("SLURMD_NODENAME");
    uint32_t nodeid = 0;
    if (e && *e) snprintf(buf, len, "%s", e);
    else if (spank_get_item(sp, S_JOB_NODEID, &nodeid) == ESPANK_SUCCESS) snprintf(buf, len, "node%u", nodeid);
    else snprintf(buf, len, "node");
    /* A node name goes into a file name NODE.STEP_...: keep it to safe characters, no '_'. */
    for (char *p = buf; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
              *p == '.'))
            *p = '-';
}

/* DIR/JOBID/NODE.STEP.nodes: the nodes the step runs on (a SLURM host list), so that
 * `parse --job` can name nodes whose records are missing. */
static void write_nodes(spank_t sp, const char *dir, const char *node, const char *sname, uint32_t step) {
    char list[4096] = "";
    if (step == SLURM_BATCH_SCRIPT || step == SLURM_INTERACTIVE_STEP) snprintf(list, sizeof list, "%s", node);
    else if (spank_getenv(sp, "SLURM_STEP_NODELIST", list, sizeof list) != ESPANK_SUCCESS &&
             spank_getenv(sp, "SLURM_NODELIST", list, sizeof list) != ESPANK_SUCCESS &&
             spank_getenv(sp, "SLURM_JOB_NODELIST", list, sizeof list) != ESPANK_SUCCESS)
        return;
    char path[PATH_MAX + 300];
    snprintf(path, sizeof path, "%s/%s.%s.nodes", dir, node, sname);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) {
        slurm_error("carbontracker: cannot write %s: %s", path, strerror(errno));
        return;
    }
    size_t n = strlen(list);
    list[n++] = '\n';
    if (write(fd, list, n) != (ssize_t)n) slurm_error("carbontracker: cannot write %s: %s", path, strerror(errno));
    if (fchown(fd, g_uid, g_gid) != 0) slurm_error("carbontracker: cannot give %s to uid %u", path, (unsigned)g_uid);
    close(fd);
}

int slurm_spank_init_post_opt(spank_t sp, int ac, char **av) {
    (void)ac;
    (void)av;
    if (spank_context() != S_CTX_REMOTE) return 0;
    int want = g_site.always;
    const char *dir = g_site.dir;
    if (g_opt_set) {
        if (strcmp(g_opt_arg, "off") == 0 || strcmp(g_opt_arg, "no") == 0) want = 0;
        else {
            want = 1;
            if (g_opt_arg[0]) dir = g_opt_arg;
        }
    }
    if (!want) return 0;
    double t0 = mono_s();

    uint32_t job = 0, step = 0;
    if (spank_get_item(sp, S_JOB_ID, &job) != ESPANK_SUCCESS ||
        spank_get_item(sp, S_JOB_STEPID, &step) != ESPANK_SUCCESS ||
        spank_get_item(sp, S_JOB_UID, &g_uid) != ESPANK_SUCCESS ||
        spank_get_item(sp, S_JOB_GID, &g_gid) != ESPANK_SUCCESS) {
        slurm_error("carbontracker: cannot read the job and step ids; this step is not measured");
        return 0;
    }
    if (step == SLURM_EXTERN_CONT) return 0; /* no user tasks: nothing of the job's own to measure */

    char path[PATH_MAX];
    if (dir[0] != '/') {
        char cwd[PATH_MAX];
        if (spank_getenv(sp, "PWD", cwd, sizeof cwd) != ESPANK_SUCCESS || cwd[0] != '/') {
            slurm_error("carbontracker: job %u: relative --carbontracker=%s and no working directory known; "
                        "not measured",
                        job, dir);
            return 0;
        }
        if (snprintf(path, sizeof path, "%s/%s/%u", cwd, dir, job) >= (int)sizeof path) path[0] = '\0';
    } else if (snprintf(path, sizeof path, "%s/%u", dir, job) >= (int)sizeof path) {
        path[0] = '\0';
    }
    if (!path[0]) {
        slurm_error("carbontracker: job %u: log directory path too long; not measured", job);
        return 0;
    }
    int e = mkdir_as_user(path, g_uid, g_gid);
    if (e) {
        slurm_error("carbontracker: job %u: cannot create %s as uid %u: %s; this step is not measured (the job runs)",
                    job, path, (unsigned)g_uid, strerror(e));
        return 0;
    }

    /* Root writes the logs, into the directory the user's child process created or checked. The user
     * could swap a path component for a symlink meanwhile: open the directory itself (not a symlink),
     * check it belongs to the job's user, and write only through that descriptor. */
    g_dfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    struct stat dst;
    if (g_dfd < 0 || fstat(g_dfd, &dst) != 0 || dst.st_uid != g_uid) {
        slurm_error("carbontracker: job %u: %s is not a directory of uid %u; this step is not measured (the job runs)",
                    job, path, (unsigned)g_uid);
        if (g_dfd >= 0) close(g_dfd);
        g_dfd = -1;
        return 0;
    }
    snprintf(g_fdpath, sizeof g_fdpath, "/proc/self/fd/%d", g_dfd);
    g_job = job;
    g_step = step;
    snprintf(g_dir, sizeof g_dir, "%.*s", (int)(strlen(path) - strlen(strrchr(path, '/'))), path);
    char node[128], sname[32], prefix[200], jobs[32];
    node_name(sp, node, sizeof node);
    step_name(step, sname, sizeof sname);
    snprintf(prefix, sizeof prefix, "%s.%s", node, sname);
    snprintf(jobs, sizeof jobs, "%u", job);

    /* The library reads the launcher and GPU selection from the environment; this is the
     * slurmstepd of this one step, so its environment is set to the step's view. */
    setenv("SLURM_JOB_ID", jobs, 1);
    static const char *const rank_vars[] = {
        "RANK",     "LOCAL_RANK",   "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_LOCAL_RANK",
        "PMI_RANK", "SLURM_PROCID", "SLURM_LOCALID"};
    for (size_t i = 0; i < sizeof rank_vars / sizeof rank_vars[0]; i++) unsetenv(rank_vars[i]);
    /* The job's GPUs on this node: SLURM's global GPU ids (SLURM_STEP_GPUS, SLURM_JOB_GPUS: not renumbered
     * by ConstrainDevices, unlike the tasks' CUDA_VISIBLE_DEVICES), else CUDA_VISIBLE_DEVICES. */
    char cvd[512] = "";
    int has_gpus = spank_getenv(sp, "SLURM_STEP_GPUS", cvd, sizeof cvd) == ESPANK_SUCCESS ||
                   spank_getenv(sp, "SLURM_JOB_GPUS", cvd, sizeof cvd) == ESPANK_SUCCESS ||
                   spank_getenv(sp, "CUDA_VISIBLE_DEVICES", cvd, sizeof cvd) == ESPANK_SUCCESS;
    const char *components = g_site.components;
    if (g_site.all_gpus) unsetenv("CUDA_VISIBLE_DEVICES");
    else if (has_gpus) setenv("CUDA_VISIBLE_DEVICES", cvd, 1);
    else if (strcmp(components, "gpu") == 0) {
        slurm_info("carbontracker: job %u step %s: no GPUs allocated and components=gpu; not measured", job, sname);
        return 0;
    } else components = "cpu"; /* the job has no GPUs of its own on this node */

    ct_config cfg;
    ct_config_init(&cfg);
    cfg.epochs = 1;
    cfg.verbose = 0;
    cfg.status_line = 0;
    cfg.interpretable = 0;
    cfg.ignore_errors = 1;
    cfg.components = components;
    cfg.log_dir = g_fdpath;
    cfg.log_file_prefix = prefix;
    cfg.offline = !g_site.online;
    if (g_site.pue >= 1) cfg.pue = g_site.pue;
    if (g_site.intensity > 0) cfg.carbon_intensity = g_site.intensity;
    if (g_site.country[0]) cfg.country = g_site.country;
    if (g_site.interval > 0) cfg.update_interval = g_site.interval;

    unsigned char before[1024];
    int have_snapshot = snapshot_fds(before, (int)sizeof before) == 0;
    int rc = ct_tracker_new(&cfg, &g_tracker);
    if (have_snapshot) cloexec_new_fds(before, (int)sizeof before);
    if (rc != 0) {
        slurm_error("carbontracker: job %u step %s on %s: not measured: %s: %s", job, sname, node, ct_strerror(rc),
                    ct_last_error_message());
        g_tracker = NULL;
        close(g_dfd);
        g_dfd = -1;
        return 0;
    }
    write_nodes(sp, g_fdpath, node, sname, step);
    g_busy0 = node_busy_s();
    g_children0 = children_cpu_s();
    rc = ct_epoch_start(g_tracker);
    if (rc != 0) slurm_error("carbontracker: job %u step %s: %s", job, sname, ct_tracker_message(g_tracker));
    g_start_ms = (mono_s() - t0) * 1e3;
    slurm_debug("carbontracker: job %u step %s on %s: measuring into %s", job, sname, node, path);
    return 0;
}

static void report_comment(const char *job, const char *dir);
static void report_output(const char *job, const char *dir);

/* Gives a run's log files to the job's user (they were created by root in the user's directory). */
static void chown_logs(const char *jsonl) {
    static const char SUFFIX[] = "_carbontracker.jsonl";
    size_t n = strlen(jsonl);
    if (n < sizeof SUFFIX - 1) return;
    char base[PATH_MAX];
    snprintf(base, sizeof base, "%.*s", (int)(n - (sizeof SUFFIX - 1)), jsonl);
    static const char *const sfx[] = {"_carbontracker.jsonl", "_carbontracker.log", "_carbontracker_output.log",
                                      "_carbontracker_err.log"};
    for (size_t i = 0; i < sizeof sfx / sizeof sfx[0]; i++) {
        char p[PATH_MAX + 32];
        snprintf(p, sizeof p, "%s%s", base, sfx[i]);
        if (lchown(p, g_uid, g_gid) != 0 && errno != ENOENT)
            slurm_error("carbontracker: cannot give %s to uid %u: %s", p, (unsigned)g_uid, strerror(errno));
    }
}

int slurm_spank_exit(spank_t sp, int ac, char **av) {
    (void)sp;
    (void)ac;
    (void)av;
    if (!g_tracker || spank_context() != S_CTX_REMOTE) return 0;
    double t0 = mono_s();
    ct_epoch_end(g_tracker);
    ct_stop(g_tracker);
    ct_result r;
    int have = ct_get_actual(g_tracker, &r) == 0;
    const char *jsonl = ct_jsonl_path(g_tracker);
    char path[PATH_MAX] = "";
    if (jsonl) snprintf(path, sizeof path, "%s", jsonl);
    ct_tracker_free(g_tracker);
    g_tracker = NULL;
    if (path[0] && have) write_attribution(path, &r);
    if (path[0]) chown_logs(path);
    /* the real path for the log line: DIR/JOBID instead of /proc/self/fd/N */
    char shown[PATH_MAX + 64];
    const char *base = strrchr(path, '/');
    snprintf(shown, sizeof shown, "%s/%u%s", g_dir, g_job, base ? base : "");
    close(g_dfd);
    g_dfd = -1;
    if (g_step == SLURM_BATCH_SCRIPT && (g_site.report_comment || g_site.report_output)) {
        char jobs[32];
        snprintf(jobs, sizeof jobs, "%u", g_job);
        if (g_site.report_comment) report_comment(jobs, g_dir);
        if (g_site.report_output) report_output(jobs, g_dir);
    }
    if (have)
        slurm_info("carbontracker: step measured: %.1f s, cpu %.1f J, gpu %.1f J, %.6f kWh, %.3f g CO2eq (%s); "
                   "start took %.1f ms; stop took %.1f ms; log %s",
                   r.duration_s, r.energy_j[0], r.energy_j[1], r.energy_kwh, r.co2eq_g,
                   (r.estimated[0] || r.estimated[1]) ? "partly estimated" : "measured", g_start_ms,
                   (mono_s() - t0) * 1e3, shown);
    return 0;
}

/* Runs argv (no shell) with stdout into out (may be NULL), at most timeout_s seconds; returns the exit
 * status, or -1 (could not run, killed, timed out). */
static int run_capture(char *const argv[], char *out, size_t outlen, int timeout_s, int merge_stderr) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return -1;
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (pid == 0) {
        dup2(fds[1], 1);
        if (merge_stderr) dup2(fds[1], 2);
        int nul = open("/dev/null", O_RDWR);
        if (nul >= 0) {
            dup2(nul, 0);
            if (!merge_stderr) dup2(nul, 2);
        }
        alarm((unsigned)timeout_s); /* SIGALRM ends a hung program; exec keeps the alarm */
        execv(argv[0], argv);
        _exit(127);
    }
    close(fds[1]);
    size_t n = 0;
    for (;;) {
        char tmp[512];
        ssize_t r = read(fds[0], tmp, sizeof tmp);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        for (ssize_t i = 0; i < r && out && n + 1 < outlen; i++) out[n++] = tmp[i];
    }
    if (out && outlen) out[n] = '\0';
    close(fds[0]);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The job's totals into its AdminComment, from the batch step's exit on the batch node (as root): the job
 * is still running (slurmctld refuses updates of finished jobs, and the accounting database, where
 * `sacctmgr` could still change it, is not always there). The job's srun steps have ended, but another
 * node's slurmstepd may still be writing its final record: wait for every node's records to be complete,
 * up to 3 s (the only wait the plugin ever adds to a job, and only with report=comment). */
/* `parse --job` in format fmt into out, once every node's records are complete or 3 s have passed. */
static int job_totals(const char *job, const char *dir, const char *fmt, char *out, size_t len) {
    char csv[8192];
    char *pargv[] = {g_site.cli, "parse", "--job", (char *)job, (char *)dir, "--format", "csv", NULL};
    int rc = -1;
    for (double t0 = mono_s();;) {
        rc = run_capture(pargv, csv, sizeof csv, 10, 0);
        if (rc != 0 || !strstr(csv, ",0\n") || mono_s() - t0 > 3.0) break; /* a node row with complete=0 */
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (rc != 0 || strcmp(fmt, "csv") == 0) {
        snprintf(out, len, "%s", csv);
        return rc;
    }
    char *targv[] = {g_site.cli, "parse", "--job", (char *)job, (char *)dir, "--format", (char *)fmt, NULL};
    return run_capture(targv, out, len, 10, 0);
}

/* Appends the job's totals (parse --job's text) to the job's output file, as the job's user. */
static void report_output(const char *job, const char *dir) {
    char text[8192], show[16384];
    int rc = job_totals(job, dir, "text", text, sizeof text);
    if (rc != 0) {
        slurm_error("carbontracker: job %s: %s parse --job failed (status %d); nothing added to the job's output", job,
                    g_site.cli, rc);
        return;
    }
    char *sargv[] = {g_site.scontrol, "-o", "show", "job", (char *)job, NULL};
    if (run_capture(sargv, show, sizeof show, 10, 0) != 0) {
        slurm_error("carbontracker: job %s: %s show job failed; nothing added to the job's output", job,
                    g_site.scontrol);
        return;
    }
    const char *p = strstr(show, " StdOut=");
    if (!p) return;
    p += 8;
    char out[PATH_MAX];
    size_t n = strcspn(p, " \n");
    if (n == 0 || n >= sizeof out || p[0] != '/') return;
    memcpy(out, p, n);
    out[n] = '\0';
    pid_t pid = fork();
    if (pid < 0) return;
    if (pid == 0) {
        if ((setgroups(0, NULL) != 0 && getuid() == 0) || setgid(g_gid) != 0 || setuid(g_uid) != 0) _exit(EPERM);
        int fd = open(out, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) _exit(errno & 0xff);
        static const char head[] = "\n[carbontracker] ";
        ssize_t w1 = write(fd, head, sizeof head - 1);
        ssize_t w2 = write(fd, text, strlen(text));
        _exit(w1 < 0 || w2 < 0 ? EIO : 0);
    }
    int st = 0;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) return;
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        slurm_error("carbontracker: job %s: cannot append the totals to %s: %s", job, out,
                    WIFEXITED(st) ? strerror(WEXITSTATUS(st)) : "killed");
}

static void report_comment(const char *job, const char *dir) {
    char csv[8192];
    int rc = job_totals(job, dir, "csv", csv, sizeof csv);
    if (rc != 0) {
        slurm_error("carbontracker: job %s: %s parse --job failed (status %d); no AdminComment written", job,
                    g_site.cli, rc);
        return;
    }
    /* job_id,node,energy_j,cpu_j,gpu_j,energy_kwh,co2eq_g,duration_s,measurement,steps,... */
    char missing[1024] = "";
    double ej = 0, cj = 0, gj = 0, kwh = 0, co2 = 0;
    int nodes = 0, found = 0;
    char meas[16] = "measured";
    char *save = NULL;
    for (char *line = strtok_r(csv, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *f[12] = {0};
        int k = 0;
        for (char *p = line; p && k < 12; k++) {
            f[k] = p;
            p = strchr(p, ',');
            if (p) *p++ = '\0';
        }
        if (k < 9 || strcmp(f[0], "job_id") == 0) continue;
        if (strcmp(f[1], "TOTAL") == 0) {
            ej = atof(f[2]), cj = atof(f[3]), gj = atof(f[4]), kwh = atof(f[5]), co2 = atof(f[6]);
            snprintf(meas, sizeof meas, "%s", f[8]);
            found = 1;
        } else if (strcmp(f[8], "missing") == 0) {
            size_t l = strlen(missing);
            snprintf(missing + l, sizeof missing - l, "%s\"%s\"", l ? "," : "", f[1]);
        } else {
            nodes++;
        }
    }
    if (!found) return;
    char comment[1400];
    snprintf(comment, sizeof comment,
             "AdminComment={\"carbontracker\":{\"energy_j\":%.6g,\"cpu_j\":%.6g,\"gpu_j\":%.6g,\"energy_kwh\":%.6g,"
             "\"co2eq_g\":%.6g,\"nodes\":%d,\"missing_nodes\":[%s],\"measurement\":\"%s\"}}",
             ej, cj, gj, kwh, co2, nodes, missing, meas);
    char jobarg[64];
    snprintf(jobarg, sizeof jobarg, "JobId=%s", job);
    char *uargv[] = {g_site.scontrol, "update", jobarg, comment, NULL};
    char said[512];
    rc = run_capture(uargv, said, sizeof said, 20, 1);
    if (rc != 0)
        slurm_error("carbontracker: job %s: %s update AdminComment failed (status %d): %s", job, g_site.scontrol, rc,
                    said);
}
