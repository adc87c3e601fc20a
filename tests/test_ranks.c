/* test_ranks.c - rank detection from launcher environments (issue 3). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "core/core.h"
#include "intensity/intensity.h"
#include "output/format.h"
#include "sources/source.h"

static const char *const all_vars[] = {
    "RANK",
    "LOCAL_RANK",
    "WORLD_SIZE",
    "OMPI_COMM_WORLD_RANK",
    "OMPI_COMM_WORLD_LOCAL_RANK",
    "OMPI_COMM_WORLD_SIZE",
    "PMI_RANK",
    "PMI_SIZE",
    "MPI_LOCALRANKID",
    "SLURM_PROCID",
    "SLURM_LOCALID",
    "SLURM_NTASKS",
    "SLURM_JOB_ID",
    "PBS_JOBID",
    "LSB_JOBID",
    "TORCHELASTIC_RUN_ID",
};

static int clear_env(void **st) {
    (void)st;
    for (size_t i = 0; i < sizeof all_vars / sizeof all_vars[0]; i++) unsetenv(all_vars[i]);
    return 0;
}

/* Sets "K=V" pairs (NULL-terminated). */
static void env(const char *const *kv) {
    for (; *kv; kv++) {
        char k[64];
        const char *eq = strchr(*kv, '=');
        size_t n = (size_t)(eq - *kv);
        memcpy(k, *kv, n);
        k[n] = '\0';
        setenv(k, eq + 1, 1);
    }
}

static void expect(int rank, int local, int world, const char *launcher, const char *job) {
    ct__rank_info r;
    memset(&r, 0x5a, sizeof r);
    ct__ranks_detect(&r);
    assert_int_equal(r.rank, rank);
    assert_int_equal(r.local_rank, local);
    assert_int_equal(r.world_size, world);
    assert_string_equal(r.launcher, launcher);
    assert_string_equal(r.job_id, job);
}

static void test_none(void **st) {
    (void)st;
    expect(-1, -1, -1, "", "");
}

static void test_torchrun(void **st) {
    (void)st;
    env((const char *const[]){"RANK=5", "LOCAL_RANK=1", "WORLD_SIZE=8", "TORCHELASTIC_RUN_ID=job42", NULL});
    expect(5, 1, 8, "torchrun", "job42");
    setenv("TORCHELASTIC_RUN_ID", "none", 1); /* torchrun's default id is not a job id */
    expect(5, 1, 8, "torchrun", "");
}

static void test_torchrun_under_slurm(void **st) {
    (void)st;
    /* srun starts one torchrun per node (SLURM_PROCID = node), torchrun starts the ranks. */
    env((const char *const[]){"SLURM_PROCID=1", "SLURM_LOCALID=0", "SLURM_NTASKS=2", "SLURM_JOB_ID=123456", "RANK=6",
                              "LOCAL_RANK=2", "WORLD_SIZE=8", NULL});
    expect(6, 2, 8, "torchrun", "123456");
}

static void test_slurm(void **st) {
    (void)st;
    env((const char *const[]){"SLURM_PROCID=3", "SLURM_LOCALID=0", "SLURM_NTASKS=4", "SLURM_JOB_ID=777", NULL});
    expect(3, 0, 4, "slurm", "777");
}

static void test_openmpi(void **st) {
    (void)st;
    env((const char *const[]){"OMPI_COMM_WORLD_RANK=9", "OMPI_COMM_WORLD_LOCAL_RANK=1", "OMPI_COMM_WORLD_SIZE=16",
                              "SLURM_PROCID=0", "SLURM_LOCALID=0", "SLURM_JOB_ID=55", NULL});
    expect(9, 1, 16, "openmpi", "55");
}

static void test_pmi(void **st) {
    (void)st;
    env((const char *const[]){"PMI_RANK=2", "PMI_SIZE=4", "MPI_LOCALRANKID=0", "PBS_JOBID=88.server", NULL});
    expect(2, 0, 4, "pmi", "88.server");
    unsetenv("MPI_LOCALRANKID");
    expect(2, -1, 4, "pmi", "88.server");
}

static void test_pmi_and_slurm(void **st) {
    (void)st;
    /* srun --mpi=pmi2: both agree, SLURM gives the local id. */
    env((const char *const[]){"PMI_RANK=3", "SLURM_PROCID=3", "SLURM_LOCALID=1", "SLURM_NTASKS=4", "SLURM_JOB_ID=9",
                              NULL});
    expect(3, 1, 4, "slurm", "9");
    /* mpiexec.hydra under sbatch: SLURM_PROCID belongs to the proxy, PMI_RANK is the rank. */
    setenv("PMI_RANK", "5", 1);
    setenv("MPI_LOCALRANKID", "1", 1);
    expect(5, 1, -1, "pmi", "9");
}

static void test_malformed(void **st) {
    (void)st;
    env((const char *const[]){"RANK=abc", "LOCAL_RANK=-1", "WORLD_SIZE=99999999999", "LSB_JOBID=4", NULL});
    expect(-1, -1, -1, "torchrun", "4");
    env((const char *const[]){"RANK= 2 ", "LOCAL_RANK=0\n", "WORLD_SIZE=4x", NULL});
    expect(2, 0, -1, "torchrun", "4"); /* blanks around a number are tolerated */
    clear_env(NULL);
    env((const char *const[]){"RANK=", "SLURM_PROCID=1", NULL}); /* empty = unset */
    expect(1, -1, -1, "slurm", "");
}

static void test_long_job_id(void **st) {
    (void)st;
    char big[200];
    memset(big, '7', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    setenv("SLURM_JOB_ID", big, 1);
    ct__rank_info r;
    ct__ranks_detect(&r);
    assert_int_equal(strlen(r.job_id), sizeof r.job_id - 1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_none, clear_env),
        cmocka_unit_test_setup(test_torchrun, clear_env),
        cmocka_unit_test_setup(test_torchrun_under_slurm, clear_env),
        cmocka_unit_test_setup(test_slurm, clear_env),
        cmocka_unit_test_setup(test_openmpi, clear_env),
        cmocka_unit_test_setup(test_pmi, clear_env),
        cmocka_unit_test_setup(test_pmi_and_slurm, clear_env),
        cmocka_unit_test_setup(test_malformed, clear_env),
        cmocka_unit_test_setup(test_long_job_id, clear_env),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
