/*
 * cgroup_cpu.c - the CPU limits and CPU time of this process's cgroup, so
 * that a container (or a batch job in a cpuset) is billed for its own CPU
 * time, not for the whole machine's utilisation.
 *
 * The cgroup comes from <CT_PROC_ROOT>/self/cgroup, its files from under
 * CT_CGROUP_ROOT (default /sys/fs/cgroup):
 *   cgroup v2 ("0::/path"):  cpu.max ("max 100000" or "<quota> <period>", the
 *     smallest along the path up to the root), cpuset.cpus.effective, and
 *     cpu.stat's usage_usec;
 *   cgroup v1 ("N:cpu,cpuacct:/path", "N:cpuset:/path"): cpu.cfs_quota_us and
 *     cpu.cfs_period_us (-1 = no quota), cpuset.effective_cpus (or
 *     cpuset.cpus), and cpuacct.usage (ns).
 * Inside a container with its own cgroup namespace the path is "/" and the
 * root is the container's own cgroup; when <root>/<path> does not exist (the
 * host's path seen from a container that mounts only its own cgroup) the
 * root itself is used.
 */
#include "sources/cpu_host.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int is_dir(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int read_small(const char *dir, const char *file, char *out, size_t len) {
    char path[1200], *buf = NULL;
    size_t n = 0;
    snprintf(path, sizeof path, "%s/%s", dir, file);
    if (ct__read_file(path, 65536, &buf, &n) != 0) return -1;
    ct__strlcpy(out, buf, len);
    free(buf);
    return 0;
}

/* Number of CPUs in a cpulist ("0-3,8,10-11"); 0 when malformed. */
static int cpulist_count(const char *s) {
    int n = 0;
    while (*s && !isspace((unsigned char)*s)) {
        char *end;
        long a = strtol(s, &end, 10);
        if (end == s || a < 0) return 0;
        long b = a;
        s = end;
        if (*s == '-') {
            b = strtol(s + 1, &end, 10);
            if (end == s + 1 || b < a) return 0;
            s = end;
        }
        n += (int)(b - a + 1);
        if (*s == ',') s++;
    }
    return n;
}

/* dir = root/sub/path when it exists, else root/sub (cgroup namespace). */
static void cg_dir(char *dir, size_t len, const char *root, const char *sub, const char *path) {
    snprintf(dir, len, "%s%s%s%s", root, sub[0] ? "/" : "", sub, strcmp(path, "/") ? path : "");
    if (!is_dir(dir)) snprintf(dir, len, "%s%s%s", root, sub[0] ? "/" : "", sub);
}

static void v2_limits(ct_cgroup_cpu *cg, const char *root, const char *dir) {
    /* cpu.max along the path up to the root: the smallest quota holds */
    char d[1024], text[256];
    ct__strlcpy(d, dir, sizeof d);
    size_t rootlen = strlen(root);
    for (;;) {
        if (read_small(d, "cpu.max", text, sizeof text) == 0 && strncmp(text, "max", 3) != 0) {
            double quota = 0, period = 0;
            if (sscanf(text, "%lf %lf", &quota, &period) == 2 && quota > 0 && period > 0) {
                double cpus = quota / period;
                if (cg->quota_cpus == 0 || cpus < cg->quota_cpus) cg->quota_cpus = cpus;
            }
        }
        char *slash = strrchr(d, '/');
        if (!slash || (size_t)(slash - d) < rootlen) break;
        *slash = '\0';
    }
    if (read_small(dir, "cpuset.cpus.effective", text, sizeof text) == 0) cg->cpuset_cpus = cpulist_count(text);
}

static void v1_limits(ct_cgroup_cpu *cg, const char *cpu_dir, const char *cpuset_dir) {
    char text[256];
    long long quota = -1, period = 0;
    if (read_small(cpu_dir, "cpu.cfs_quota_us", text, sizeof text) == 0) quota = atoll(text);
    if (read_small(cpu_dir, "cpu.cfs_period_us", text, sizeof text) == 0) period = atoll(text);
    if (quota > 0 && period > 0) cg->quota_cpus = (double)quota / (double)period;
    if (cpuset_dir[0] && (read_small(cpuset_dir, "cpuset.effective_cpus", text, sizeof text) == 0 ||
                          read_small(cpuset_dir, "cpuset.cpus", text, sizeof text) == 0))
        cg->cpuset_cpus = cpulist_count(text);
}

int ct__cgroup_cpu_open(ct_cgroup_cpu *cg, int host_cpus) {
    memset(cg, 0, sizeof *cg);
    const char *proc = ct__env(CT__ENV_PROC_ROOT);
    const char *root = ct__env(CT__ENV_CGROUP_ROOT);
    if (!root) root = "/sys/fs/cgroup";
    char path[1024], *buf = NULL;
    size_t n = 0;
    snprintf(path, sizeof path, "%s/self/cgroup", proc ? proc : "/proc");
    if (ct__read_file(path, 65536, &buf, &n) != 0) return CT_ENODATA;
    char v2path[512] = "", cpupath[512] = "", cpusetpath[512] = "";
    for (char *line = buf; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = '\0';
        char *c1 = strchr(line, ':');
        char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (c1 && c2) {
            *c2 = '\0';
            const char *ctrl = c1 + 1, *p = c2 + 1;
            if (c1 == line + 1 && line[0] == '0' && c2 == c1 + 1) { /* "0::/path" */
                ct__strlcpy(v2path, p, sizeof v2path);
            } else {
                char list[256];
                ct__strlcpy(list, ctrl, sizeof list);
                char *save = NULL;
                for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                    if (!strcmp(t, "cpuacct") || !strcmp(t, "cpu")) ct__strlcpy(cpupath, p, sizeof cpupath);
                    if (!strcmp(t, "cpuset")) ct__strlcpy(cpusetpath, p, sizeof cpusetpath);
                }
            }
        }
        line = nl ? nl + 1 : NULL;
    }
    free(buf);

    char dir[1024];
    if (cpupath[0]) { /* v1 (also on hybrid hosts, where cpu stays on v1) */
        static const char *const subs[] = {"cpu,cpuacct", "cpuacct,cpu", "cpuacct", "cpu"};
        char cpu_dir[1024] = "", acct_dir[1024] = "", cpuset_dir[1024] = "";
        for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) {
            char base[1100];
            snprintf(base, sizeof base, "%s/%s", root, subs[i]);
            if (!is_dir(base)) continue;
            cg_dir(dir, sizeof dir, root, subs[i], cpupath);
            char probe[1200];
            snprintf(probe, sizeof probe, "%s/cpuacct.usage", dir);
            if (!acct_dir[0] && access(probe, R_OK) == 0) ct__strlcpy(acct_dir, dir, sizeof acct_dir);
            snprintf(probe, sizeof probe, "%s/cpu.cfs_quota_us", dir);
            if (!cpu_dir[0] && access(probe, R_OK) == 0) ct__strlcpy(cpu_dir, dir, sizeof cpu_dir);
        }
        if (!acct_dir[0]) return CT_ENODATA;
        if (cpusetpath[0]) {
            char base[1100];
            snprintf(base, sizeof base, "%s/cpuset", root);
            if (is_dir(base)) cg_dir(cpuset_dir, sizeof cpuset_dir, root, "cpuset", cpusetpath);
        }
        cg->version = 1;
        snprintf(cg->usage_path, sizeof cg->usage_path, "%s/cpuacct.usage", acct_dir);
        v1_limits(cg, cpu_dir[0] ? cpu_dir : acct_dir, cpuset_dir);
    } else if (v2path[0]) {
        cg_dir(dir, sizeof dir, root, "", v2path);
        snprintf(cg->usage_path, sizeof cg->usage_path, "%s/cpu.stat", dir);
        if (access(cg->usage_path, R_OK) != 0) return CT_ENODATA;
        cg->version = 2;
        v2_limits(cg, root, dir);
    } else {
        return CT_ENODATA;
    }
    cg->limited = (cg->quota_cpus > 0 && cg->quota_cpus < (double)host_cpus) ||
                  (cg->cpuset_cpus > 0 && cg->cpuset_cpus < host_cpus);
    return 0;
}

int ct__cgroup_cpu_usage(const ct_cgroup_cpu *cg, double *cpu_s) {
    char *buf = NULL;
    size_t n = 0;
    if (ct__read_file(cg->usage_path, 65536, &buf, &n) != 0) return CT_EIO;
    int rc = CT_EPARSE;
    if (cg->version == 2) {
        const char *p = strstr(buf, "usage_usec");
        if (p && (p == buf || p[-1] == '\n')) {
            char *end;
            double v = strtod(p + 10, &end);
            if (end != p + 10 && v >= 0) {
                *cpu_s = v * 1e-6;
                rc = 0;
            }
        }
    } else {
        uint64_t ns;
        buf[strcspn(buf, "\r\n")] = '\0';
        if (ct__parse_u64(buf, &ns) == 0) {
            *cpu_s = (double)ns * 1e-9;
            rc = 0;
        }
    }
    free(buf);
    return rc;
}
