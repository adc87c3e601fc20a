/* Every environment variable the library reads, in one table: its name, what
 * it sets and its default. Code asks ct__env(CT__ENV_...) and never getenv()
 * with a CT_ name; docs/environment.md lists the same table (a test checks
 * both ways). Variables of other programs that the library follows (HOME,
 * XDG_CONFIG_HOME, CUDA_VISIBLE_DEVICES, CUDA_DEVICE_ORDER, the launchers'
 * rank variables) are read where they are used and listed in the docs too. */
#include "base/base.h"

#include <stdlib.h>

static const struct {
    const char *name;
    const char *what;
} table[CT__ENV_COUNT] = {
#define CT__ENV_ROW(id, name, what) [CT__ENV_##id] = {name, what},
    CT__ENV_LIST(CT__ENV_ROW)
#undef CT__ENV_ROW
};

const char *ct__env(ct__env_id id) {
    if ((unsigned)id >= CT__ENV_COUNT) return NULL;
    const char *v = getenv(table[id].name);
    return (v && *v) ? v : NULL;
}

const char *ct__env_name(ct__env_id id) { return (unsigned)id < CT__ENV_COUNT ? table[id].name : NULL; }

const char *ct__env_doc(ct__env_id id) { return (unsigned)id < CT__ENV_COUNT ? table[id].what : NULL; }
