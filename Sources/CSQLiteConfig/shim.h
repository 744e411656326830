#ifndef TIDINGS_CSQLITECONFIG_SHIM_H
#define TIDINGS_CSQLITECONFIG_SHIM_H

#include <sqlite3.h>

/* sqlite3_config is variadic, which Swift cannot call. It works only before SQLite is
   initialised (the first connection opened): afterwards it answers SQLITE_MISUSE and
   changes nothing. */

/* Connections without their own mutex: GRDB already hands each connection to one thread at
   a time (it supports no other mode), so SQLite's locks around every call are pure cost. */
static inline int tidings_sqlite_multithread(void) {
    return sqlite3_config(SQLITE_CONFIG_MULTITHREAD);
}

/* No allocation statistics: keeping them takes a global mutex around every allocation. */
static inline int tidings_sqlite_no_memstatus(void) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

#endif
