#!/usr/bin/env bash
# Installs the build into a temporary prefix and builds a program against it
# with pkg-config, shared and static; runs both with a simulated CPU.
set -euo pipefail
build=$1
src=$2
san=${3:-}              # the build's sanitizers: the test program needs them too
sanflags=()
[ -n "$san" ] && sanflags=(-fsanitize="$san")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
export PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig:$tmp/prefix/lib64/pkgconfig:$tmp/prefix/lib/x86_64-linux-gnu/pkgconfig"
test -x "$tmp/prefix/bin/carbontracker"
find "$tmp/prefix" -name "libcarbontracker.so.0" | grep -q .
cat > "$tmp/use.c" <<'C'
#include <carbontracker.h>
#include <stdio.h>
#include <unistd.h>
int main(void) {
    ct_config c;
    ct_config_init(&c);
    c.epochs = 2;
    c.verbose = 0;
    c.sim_cpu = "installed-check";
    c.sim_cpu_tdp = 100;
    c.components = "cpu";
    ct_tracker *t;
    if (ct_tracker_new(&c, &t) != 0) { fprintf(stderr, "%s\n", ct_last_error_message()); return 1; }
    ct_epoch_start(t);
    usleep(100000);
    ct_epoch_end(t);
    ct_epoch_info e;
    if (ct_get_epoch(t, 0, &e) != 0) return 2;
    double want = 50.0 * e.duration_s;
    ct_tracker_free(t);
    printf("energy %.6f J, expected %.6f J\n", e.energy_j[0], want);
    return (e.energy_j[0] > want - 1e-9 && e.energy_j[0] < want + 1e-9) ? 0 : 3;
}
C
cc -std=c11 -D_DEFAULT_SOURCE -Wall -Werror "${sanflags[@]}" "$tmp/use.c" -o "$tmp/use_shared" $(pkg-config --cflags --libs carbontracker)
libdir=$(pkg-config --variable=libdir carbontracker)
LD_LIBRARY_PATH="$libdir" "$tmp/use_shared"
cc -std=c11 -D_DEFAULT_SOURCE -Wall -Werror "${sanflags[@]}" "$tmp/use.c" -o "$tmp/use_static" $(pkg-config --cflags carbontracker) \
   "$libdir/libcarbontracker.a" $(deps=$(pkg-config --print-requires-private carbontracker); [ -n "$deps" ] && pkg-config --libs $deps) \
   -lpthread -ldl -lm
"$tmp/use_static"
ldd "$tmp/use_static" | grep -q libcarbontracker && { echo "static binary still needs the shared library"; exit 1; }
echo "install check passed (shared and static, pkg-config)"
