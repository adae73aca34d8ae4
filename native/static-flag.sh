#!/bin/sh
# binding.gyp: link the launcher (native/launcher.c) statically where this toolchain
# can (glibc's libc.a, musl's): the dynamic loader needs an fd before main(), which a
# soft RLIMIT_NOFILE of 3 does not leave. Where it cannot (no libc.a), dynamically: the
# addon must still build. Prints the flag, or nothing.
cc=${CC:-cc}
out=$(mktemp) || exit 0
if printf 'int main(void) { return 0; }\n' | "$cc" -static -x c - -o "$out" >/dev/null 2>&1; then
  echo -static
fi
rm -f "$out"
