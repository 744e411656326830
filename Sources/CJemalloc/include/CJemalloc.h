#pragma once

/// jemalloc's options for the process, which jemalloc reads from this symbol of the binary at
/// its first allocation; `MALLOC_CONF` in the environment is read after it and wins.
extern const char *malloc_conf;
