/*
 * sqlite_internal.h — what the SQLite backend's files share beside
 * store_sqlite.c (which owns the connection, the schema and the
 * migrations).  Not part of the store interface: only src/store/ includes it.
 */
#ifndef M2MG_STORE_SQLITE_INTERNAL_H
#define M2MG_STORE_SQLITE_INTERNAL_H

#include <stddef.h>

#include <sqlite3.h>

struct store;

/* Slots for store_cached(), one per statement, by file. */
enum store_xstmt {
    XST_HOOKS_OF_TENANT, XST_HOOK_PENDING_ADD, XST_HOOK_DROPPED_ADD, XST_OUTBOX_INSERT,
    XST_DELIVERY_CLAIM, XST_DELIVERY_RESULT,
    STORE_XSTMT_MAX,
};

sqlite3 *store_db(struct store *s);
/* Remember SQLite's message, map rc to a negative errno (store.h). */
int store_fail(struct store *s, int rc);
/* Step until done; 0 or the mapped error.  The statement is reset. */
int store_step_done(struct store *s, sqlite3_stmt *st);
/* A text column into a fixed buffer ("" for NULL), truncated to fit. */
void store_copy_col(char *dst, size_t cap, sqlite3_stmt *st, int i);
/* A statement prepared once per connection, reset and unbound for reuse;
 * NULL (message in store_errmsg) when it does not prepare. */
sqlite3_stmt *store_cached(struct store *s, int slot, const char *sql);

#endif
