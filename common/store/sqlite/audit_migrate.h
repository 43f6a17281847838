/*  =========================================================================
    audit_migrate - the migration steps of audit.db that need more than SQL

    Each runs inside its step's transaction (audit_schema), on the layout
    of that step: they are never changed once released, as the steps are.
    ========================================================================= */

#ifndef AUDIT_MIGRATE_H_INCLUDED
#define AUDIT_MIGRATE_H_INCLUDED

#include <sqlite3.h>

#ifdef __cplusplus
extern "C" {
#endif

//  Step 5: the leaves (table leaf) and tile roots (tree_node) of every
//  event already stored. An index whose event retention deleted before
//  the tree existed gets the leaf of the empty text. 0 or -1.
int
    audit_migrate_tree_v5 (sqlite3 *conn);

//  Step 7: the tiles with a deleted leaf keep their hashes in leaf_tile
//  (the step's SQL cut the tags of the others into event.leaf_tag), the
//  complete tiles get their inner subtrees, then table leaf goes. 0 or -1.
int
    audit_migrate_leaves_v7 (sqlite3 *conn);

#ifdef __cplusplus
}
#endif

#endif
