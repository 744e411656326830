#pragma once

/// jemalloc's options for the process (on Linux, where the binary links it), which jemalloc reads
/// from this symbol at its first allocation; `MALLOC_CONF` in the environment is read after it
/// and wins.
extern const char *malloc_conf;
