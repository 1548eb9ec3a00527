#!/bin/sh
':' //; case "$(uname -s 2>/dev/null):${RETRO_HUGEPAGE_MALLOC:-1}:${GLIBC_TUNABLES}" in Linux:0:*|Linux:*glibc.malloc.hugetlb=*) ;; Linux:*) GLIBC_TUNABLES="${GLIBC_TUNABLES:+$GLIBC_TUNABLES:}glibc.malloc.hugetlb=1"; export GLIBC_TUNABLES ;; esac; exec node "$0" "$@"
// The line above is shell, and a string plus a comment to JavaScript: run as a program, /bin/sh
// turns on glibc's transparent-huge-page malloc and re-runs this file under node in the same
// process (exec), so signals and exit codes are node's own. Why: a training step allocates
// hundreds of MB of fresh buffers, and on 4 KB pages faulting them in took 15-40% of a step on
// our 2-core VMs (benchmarks/train-step.ts, "--hugepages"). Tunables a user set are kept;
// RETRO_HUGEPAGE_MALLOC=0 or an explicit glibc.malloc.hugetlb=... leaves malloc as it is.
// Other systems (macOS, musl) and `node bin/retro.js` run the CLI unchanged.
import '../dist/bin.js';
