/*
 * cpu_host.h - what the CPU estimate knows about the machine (internal to
 * sources/): the processor model and its specifications from the embedded
 * tables, the machine's shape from /proc/cpuinfo and DMI (host or virtual
 * machine, vCPUs), the container's CPU limits and usage from its cgroup, and
 * the optional DRAM estimate.
 *
 * Roots (for tests and containers): CT_PROC_ROOT (/proc), CT_DMI_ROOT
 * (/sys/class/dmi/id), CT_CGROUP_ROOT (/sys/fs/cgroup).
 */
#ifndef CT_CPU_HOST_H
#define CT_CPU_HOST_H

#include "sources/source.h"

/* ------------------------------------------------------------------ */
/* Processor specifications (cpu_model.c)                              */
/* ------------------------------------------------------------------ */
typedef struct ct_cpu_spec {
    char name[160];     /* the table's name of the model ("" when none matched) */
    double tdp_w;       /* per chip, 0 = unknown */
    int cores, threads; /* per chip, 0 = unknown */
    char arch[48];      /* codename or microarchitecture ("cascade lake", "zen3"), "" = unknown */
    char source[96];    /* which table gave the figures, for messages */
} ct_cpu_spec;

/* Looks a /proc/cpuinfo model name up in the specification tables: the quattor
 * CPU templates (cores, threads, TDP, codename), the cloud parts, then the
 * CodeCarbon TDP table (TDP only). Matching: the same vendor only; the whole
 * normalised name, else the longest table name found in it at word
 * boundaries. 0 or CT_ENODATA (*out then has only what was found). */
int ct__cpu_spec_lookup(const char *model, ct_cpu_spec *out);

/* Cloud Carbon Footprint per-vCPU power for a microarchitecture ("cascade
 * lake", "zen2", "Graviton2"), preferring the provider's own figures (aws,
 * gcp, azure; NULL or "" for any). 0 or CT_ENODATA. */
int ct__cpu_vcpu_power(const char *arch, const char *provider, double *min_w, double *max_w, char *matched,
                       size_t mlen);
/* The per-vCPU default for an unknown processor: the median min and max of all
 * the Cloud Carbon Footprint coefficients. */
void ct__cpu_vcpu_default(double *min_w, double *max_w);

/* ------------------------------------------------------------------ */
/* The machine (cpu_model.c)                                            */
/* ------------------------------------------------------------------ */
typedef struct ct_cpu_host {
    char model[256];                      /* "model name", or built from the ARM part / DMI; "" unknown */
    char vendor_id[32];                   /* GenuineIntel, AuthenticAMD, "" */
    int family, model_no, stepping;       /* x86 CPUID, -1 unknown */
    unsigned arm_implementer, arm_part;   /* 0 unknown */
    int logical;                          /* processors listed (vCPUs on a VM) */
    int packages;                         /* distinct physical ids (1 when absent) */
    int hypervisor;                       /* "hypervisor" in the flags */
    char dmi_vendor[96], dmi_product[96]; /* /sys/class/dmi/id sys_vendor, product_name */
    int vm;                               /* a virtual machine (hypervisor flag, Xen guest or DMI) */
    char vm_why[160];                     /* what said so, for messages */
    char provider[8];                     /* "aws", "gcp", "azure", "" */
} ct_cpu_host;

/* Parses /proc/cpuinfo text into h (DMI fields untouched). */
void ct__cpuinfo_parse(const char *text, ct_cpu_host *h);
/* Reads DMI (root: CT_DMI_ROOT or /sys/class/dmi/id) and <CT_PROC_ROOT>/xen
 * and decides vm, provider and, for ARM servers without a model name, the
 * model. */
void ct__cpu_host_dmi(ct_cpu_host *h);
/* Codename of an x86 CPU from its CPUID family/model/stepping, or of an ARM
 * core from its implementer/part ("" when unknown). */
const char *ct__cpu_arch_from_id(const ct_cpu_host *h);

/* ------------------------------------------------------------------ */
/* Containers: the cgroup's CPU limit and usage (cgroup_cpu.c)          */
/* ------------------------------------------------------------------ */
typedef struct ct_cgroup_cpu {
    int version;           /* 1 or 2; 0 = no cgroup found */
    char usage_path[1024]; /* cpu.stat (v2) or cpuacct.usage (v1) */
    double quota_cpus;     /* cpu.max / cfs quota in CPUs, 0 = no quota */
    int cpuset_cpus;       /* CPUs in the cpuset, 0 = unknown */
    int limited;           /* a quota, or a cpuset smaller than the machine */
} ct_cgroup_cpu;

/* Finds this process's cgroup (CT_PROC_ROOT/self/cgroup under
 * CT_CGROUP_ROOT) and its CPU limits. host_cpus: the machine's logical CPUs.
 * 0 when found (limited says whether it is limited), CT_ENODATA otherwise. */
int ct__cgroup_cpu_open(ct_cgroup_cpu *cg, int host_cpus);
/* CPU time used by the cgroup since it was created, s. 0 or CT_EIO/CT_EPARSE. */
int ct__cgroup_cpu_usage(const ct_cgroup_cpu *cg, double *cpu_s);

/* ------------------------------------------------------------------ */
/* DRAM estimate (cpu_model.c)                                          */
/* ------------------------------------------------------------------ */
/* Watts per GB of memory used for the DRAM estimate (Cloud Carbon Footprint's
 * memory coefficient). */
#define CT__DRAM_W_PER_GB 0.392
/* Is the DRAM estimate asked for (env CT_DRAM_ESTIMATE=1; off by default)? */
int ct__dram_estimate_wanted(void);
/* Installed memory, GB (MemTotal of CT_PROC_ROOT/meminfo). 0 or CT_ENODATA. */
int ct__dram_gb(double *gb);

#endif /* CT_CPU_HOST_H */
