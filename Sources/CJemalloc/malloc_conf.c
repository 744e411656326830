#include "CJemalloc.h"

// Freed pages go back to the kernel after a second, not jemalloc's ten: an append's peak RSS
// was 88-93 MB with this and 91-95 MB without (85-86 MB with glibc's malloc), against a target
// of 100 MB, in the same time (BENCHMARKS.md, "jemalloc").
const char *malloc_conf = "dirty_decay_ms:1000";
