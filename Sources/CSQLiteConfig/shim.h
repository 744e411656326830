#ifndef TIDINGS_CSQLITECONFIG_SHIM_H
#define TIDINGS_CSQLITECONFIG_SHIM_H

#include <sqlite3.h>

/* sqlite3_config is variadic, which Swift cannot call. It works only before SQLite is
   initialised (the first connection opened): afterwards it answers SQLITE_MISUSE and
   changes nothing. */

/* No allocation statistics: keeping them takes a global mutex around every allocation
   (GRDB already opens each connection without a mutex of its own, SQLITE_OPEN_NOMUTEX). */
static inline int tidings_sqlite_no_memstatus(void) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

#endif
