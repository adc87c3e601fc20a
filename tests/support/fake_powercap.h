/*
 * fake_powercap.h - fake powercap sysfs and /proc trees for the CPU energy
 * tests and benchmarks (RAPL, TDP estimate).
 *
 * A tree lives in a fresh temporary directory. Zones are laid out as the
 * kernel does: nested directories (intel-rapl:0/intel-rapl:0:0) plus, at the
 * root, one symlink per zone (the flat list of /sys/class/powercap).
 * Counters are rewritten in place (same inode, fixed width, one pwrite), so a
 * source that keeps energy_uj open sees every new value, and a concurrent
 * reader never sees an empty file.
 *
 * All functions return 0 on success, -1 on failure (with a message on stderr).
 */
#ifndef CT_TEST_FAKE_POWERCAP_H
#define CT_TEST_FAKE_POWERCAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct fake_tree {
    char root[512]; /* the directory to point CT_POWERCAP_ROOT / CT_PROC_ROOT at */
} fake_tree;

/* Creates an empty tree under $TMPDIR (default /tmp). */
int fake_tree_init(fake_tree *t, const char *tag);
/* Removes the whole tree (recursively). Safe on a tree already removed. */
void fake_tree_destroy(fake_tree *t);

/* Adds a powercap zone. id is the directory name ("intel-rapl:0",
 * "intel-rapl:0:2", "intel-rapl-mmio:0"); a sub-zone is created inside its
 * parent's directory (which must exist) and linked from the root. name is the
 * `name` file, or NULL for no name file. max_range_uj 0 = no
 * max_energy_range_uj file. */
int fake_powercap_add_zone(fake_tree *t, const char *id, const char *name, uint64_t energy_uj, uint64_t max_range_uj);
/* Rewrites a zone's energy_uj in place. */
int fake_powercap_set(fake_tree *t, const char *id, uint64_t energy_uj);
/* Adds delta_uj to the value last set (tracked here). */
int fake_powercap_add(fake_tree *t, const char *id, uint64_t delta_uj);
/* Rewrites any file of a zone with raw text (truncating: for garbage/empty). */
int fake_powercap_write_raw(fake_tree *t, const char *id, const char *file, const char *text);
/* chmod of a zone's file. */
int fake_powercap_chmod(fake_tree *t, const char *id, const char *file, unsigned mode);
/* Removes a zone: its directory (with its sub-zones) and its root link. */
int fake_powercap_remove_zone(fake_tree *t, const char *id);
/* Path of a zone's file into buf. */
int fake_powercap_path(const fake_tree *t, const char *id, const char *file, char *buf, size_t len);

/* Writes a file relative to the tree root (e.g. "cpuinfo", "stat"), in place
 * (same inode, so an open fd sees the new contents). */
int fake_tree_write(fake_tree *t, const char *rel, const char *text);

/* /proc helpers. A cpuinfo with `cpus` logical CPUs spread over `packages`
 * physical ids, each with "model name : model". */
int fake_proc_cpuinfo(fake_tree *t, const char *model, int packages, int cpus);

/* Scripted /proc/stat: the aggregate "cpu" line plus one cpuN line. */
typedef struct fake_stat {
    uint64_t user, nice, system, idle, iowait, irq, softirq, steal, guest, guest_nice;
} fake_stat;
int fake_proc_stat(fake_tree *t, const fake_stat *s);

#endif
