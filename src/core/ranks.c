/*
 * ranks.c - which process of a multi-process training this is, from the
 * launcher's environment. The tracker uses it so that one process per node
 * (local rank 0) measures the node's devices, and writes host, job id and rank
 * into its logs so that aggregating a job never double counts.
 *
 * Order, most specific first (a launcher started under another one sets the
 * inner process's true rank, the outer one's variables describe its own step):
 *   1. torchrun / torch.distributed: RANK, LOCAL_RANK, WORLD_SIZE
 *   2. Open MPI: OMPI_COMM_WORLD_RANK, OMPI_COMM_WORLD_LOCAL_RANK, OMPI_COMM_WORLD_SIZE
 *   3. MPICH/PMI: PMI_RANK, PMI_SIZE, local rank from MPI_LOCALRANKID (Hydra) --
 *      unless SLURM_PROCID agrees with PMI_RANK (srun --mpi=pmi2 sets both),
 *      where SLURM is used for its local id
 *   4. SLURM: SLURM_PROCID, SLURM_LOCALID, SLURM_NTASKS
 * The job id is SLURM_JOB_ID, else PBS_JOBID, else LSB_JOBID, else torchrun's
 * TORCHELASTIC_RUN_ID (when not "none"). A variable that is set but not a
 * non-negative integer counts as unknown (-1).
 */
#include "core/core.h"

#include <stdlib.h>
#include <string.h>

/* Non-negative int from the environment, or -1 (unset, empty or malformed). */
static int env_int(const char *name) {
    const char *s = getenv(name);
    uint64_t v;
    if (!s || !*s || ct__parse_u64(s, &v) != 0 || v > 0x7fffffff) return -1;
    return (int)v;
}

static int env_set(const char *name) {
    const char *s = getenv(name);
    return s && *s;
}

static void set(ct__rank_info *out, const char *launcher, int rank, int local, int world) {
    ct__strlcpy(out->launcher, launcher, sizeof out->launcher);
    out->rank = rank;
    out->local_rank = local;
    out->world_size = world;
}

void ct__ranks_detect(ct__rank_info *out) {
    memset(out, 0, sizeof *out);
    out->rank = out->local_rank = out->world_size = -1;

    if (env_set("RANK") || env_set("LOCAL_RANK")) {
        set(out, "torchrun", env_int("RANK"), env_int("LOCAL_RANK"), env_int("WORLD_SIZE"));
    } else if (env_set("OMPI_COMM_WORLD_RANK") || env_set("OMPI_COMM_WORLD_LOCAL_RANK")) {
        set(out, "openmpi", env_int("OMPI_COMM_WORLD_RANK"), env_int("OMPI_COMM_WORLD_LOCAL_RANK"),
            env_int("OMPI_COMM_WORLD_SIZE"));
    } else if (env_set("PMI_RANK") && !(env_set("SLURM_PROCID") && env_int("SLURM_PROCID") == env_int("PMI_RANK"))) {
        set(out, "pmi", env_int("PMI_RANK"), env_int("MPI_LOCALRANKID"), env_int("PMI_SIZE"));
    } else if (env_set("SLURM_PROCID") || env_set("SLURM_LOCALID")) {
        set(out, "slurm", env_int("SLURM_PROCID"), env_int("SLURM_LOCALID"), env_int("SLURM_NTASKS"));
    }

    static const char *const job_vars[] = {"SLURM_JOB_ID", "PBS_JOBID", "LSB_JOBID", "TORCHELASTIC_RUN_ID"};
    for (size_t i = 0; i < sizeof job_vars / sizeof job_vars[0]; i++) {
        const char *v = getenv(job_vars[i]);
        if (!v || !*v || strcmp(v, "none") == 0) continue;
        ct__strlcpy(out->job_id, v, sizeof out->job_id);
        break;
    }
}
