/* The live carbon-intensity services, one row each, in order of preference.
 *
 * Adding a service: write providers/<name>.c with its fetch function (and a
 * pure parser the tests can feed), declare the fetch function in providers.h,
 * add one row here, and list the file in src/CMakeLists.txt. docs/intensity.md has the
 * recipe. */
#include "providers.h"

#include <string.h>

const ct__provider ct__providers[] = {
    {
        .name = "UK Carbon Intensity API",
        .url_env = CT__ENV_UKGRID_URL,
        .default_base = "https://api.carbonintensity.org.uk",
        .countries = "GB",
        .serves = CT__SERVES_COUNTRY | CT__SERVES_POSTCODE,
        .needs_key = 0,
        .has_forecast = 1,
        .fetch = ct__ukgrid_fetch,
    },
    {
        .name = "Energi Data Service",
        .url_env = CT__ENV_ENERGIDATA_URL,
        .default_base = "https://api.energidataservice.dk",
        .countries = "DK",
        .serves = CT__SERVES_COUNTRY, /* price area DK1/DK2 from the zone or the coordinates */
        .needs_key = 0,
        .has_forecast = 1,
        .fetch = ct__energidata_fetch,
    },
    {
        .name = "Electricity Maps",
        .url_env = CT__ENV_ELECTRICITYMAPS_URL,
        .default_base = "https://api.electricitymap.org/v3",
        .countries = NULL, /* any zone it knows */
        .serves = CT__SERVES_COUNTRY | CT__SERVES_ZONE | CT__SERVES_COORDINATES,
        .needs_key = 1,
        .has_forecast = 1, /* paid plans; a 401/403 on it is remembered */
        .fetch = ct__em_fetch,
    },
};

const int ct__nproviders = (int)(sizeof ct__providers / sizeof ct__providers[0]);

const ct__provider *ct__provider_find(const char *name) {
    for (int i = 0; name && i < ct__nproviders; i++)
        if (strcmp(ct__providers[i].name, name) == 0) return &ct__providers[i];
    return NULL;
}
