/*
 * registry.c - the one table of energy sources: which component each serves,
 * in what order it is tried, and whether it stands alone. Adding a source is
 * one file (its ct__source_ops) and one row here; see docs/CONTRIBUTING.md.
 */
#include "sources/source.h"

#include <stdio.h>
#include <string.h>

const ct_source_row ct__sources[] = {
    /* Simulations replace the real sources of their component. */
    {.ops = &ct__source_sim_cpu, .component = CT_COMPONENT_CPU, .exclusive = 1, .simulated = 1},
    {.ops = &ct__source_sim_gpu, .component = CT_COMPONENT_GPU, .exclusive = 1, .simulated = 1},
    /* CPU: measured counters first, the estimate only without them. */
    {.ops = &ct__source_rapl, .component = CT_COMPONENT_CPU, .exclusive = 1},
    {.ops = &ct__source_tdp, .component = CT_COMPONENT_CPU, .exclusive = 1},
    /* GPU: every vendor's cards on the node, side by side. */
    {.ops = &ct__source_nvml, .component = CT_COMPONENT_GPU},
    {.ops = &ct__source_amdgpu, .component = CT_COMPONENT_GPU},
};

const int ct__source_count = (int)(sizeof ct__sources / sizeof ct__sources[0]);

int ct__sources_open(ct_component c, int simulated, const ct_source_opener *op, int *opened, char *reasons,
                     size_t len) {
    int n_open = 0;
    if (reasons && len) reasons[0] = '\0';
    for (int i = 0; i < ct__source_count; i++) {
        const ct_source_row *row = &ct__sources[i];
        if (row->component != c || !row->simulated != !simulated) continue;
        char why[1024] = "";
        int rc = op->open(op->user, row->ops, why, sizeof why);
        if (rc == CT_ENOMEM) {
            if (opened) *opened = n_open;
            return rc;
        }
        if (rc == 0) {
            n_open++;
            if (row->exclusive) break;
            continue;
        }
        if (!why[0]) snprintf(why, sizeof why, "%s: not available (%s)", row->ops->name, ct_err_name(rc));
        if (reasons && len) {
            size_t used = strlen(reasons);
            if (used + 1 < len) snprintf(reasons + used, len - used, "%s%s", used ? "; " : "", why);
        }
        if (op->skipped) op->skipped(op->user, row, why);
    }
    if (opened) *opened = n_open;
    return 0;
}
