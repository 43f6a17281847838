/*  =========================================================================
    ctl_logfetch - what auditctl asks the service about an organisation's log
    ========================================================================= */

#include "ctl_logfetch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_note.h"

static ctl_request_t *
s_request (const ctl_logfetch_t *self, const char *op)
{
    ctl_request_t *request = ctl_request_new (op);
    if (request && (ctl_request_set_token (request, self->token)
                ||  (self->org_id && ctl_request_set_str (request, "org_id", self->org_id))))
        ctl_request_destroy (&request);
    return request;
}

//  One call; the str at key into *text (heap)
static int
s_call_str (const ctl_logfetch_t *self, ctl_request_t *request, const char *key, char **text)
{
    ctl_reply_t *reply = NULL;
    int rc = request? ctl_client_call (self->client, request, &reply): CTL_EXIT_USAGE;
    const msgpack_object *value = reply? ctl_reply_get (reply, key): NULL;
    if (rc == CTL_EXIT_OK && (!value || value->type != MSGPACK_OBJECT_STR)) {
        fprintf (stderr, "error: bad_reply: %s is not a str\n", key);
        rc = CTL_EXIT_REFUSED;
    }
    if (rc == CTL_EXIT_OK && !(*text = strndup (value->via.str.ptr, value->via.str.size)))
        rc = CTL_EXIT_REFUSED;
    ctl_reply_destroy (&reply);
    ctl_request_destroy (&request);
    return rc;
}

int
ctl_logfetch_checkpoint (const ctl_logfetch_t *self, char **note)
{
    return s_call_str (self, s_request (self, "checkpoint"), "checkpoint", note);
}

int
ctl_logfetch_key (const ctl_logfetch_t *self, char *key)
{
    ctl_logfetch_t anyone = { self->client, NULL, NULL };
    char *text = NULL;
    int rc = s_call_str (&anyone, s_request (&anyone, "log_key"), "key", &text);
    if (rc == CTL_EXIT_OK && strlen (text) >= AUDIT_NOTE_VERIFIER_TEXT_SIZE) {
        fprintf (stderr, "error: bad_reply: the key is too long\n");
        rc = CTL_EXIT_REFUSED;
    }
    if (rc == CTL_EXIT_OK)
        strcpy (key, text);
    free (text);
    return rc;
}

static int
s_proof (const ctl_logfetch_t *self, const char *key, uint64_t second, uint64_t size,
         audit_merkle_hash_t *proof, size_t *count)
{
    ctl_request_t *request = s_request (self, "proof");
    if (!request || ctl_request_set_uint (request, "size", size)
    ||  ctl_request_set_uint (request, key, second)) {
        ctl_request_destroy (&request);
        return CTL_EXIT_USAGE;
    }
    ctl_reply_t *reply = NULL;
    int rc = ctl_client_call (self->client, request, &reply);
    ctl_request_destroy (&request);
    const msgpack_object *hashes = reply? ctl_reply_get (reply, "hashes"): NULL;
    bool good = hashes && hashes->type == MSGPACK_OBJECT_ARRAY
             && hashes->via.array.size <= AUDIT_MERKLE_PROOF_MAX;
    for (uint32_t at = 0; good && at < hashes->via.array.size; at++) {
        const msgpack_object *hash = &hashes->via.array.ptr [at];
        good = hash->type == MSGPACK_OBJECT_BIN && hash->via.bin.size == AUDIT_MERKLE_HASH_SIZE;
        if (good)
            memcpy (proof [at], hash->via.bin.ptr, AUDIT_MERKLE_HASH_SIZE);
    }
    if (rc == CTL_EXIT_OK && !good) {
        fprintf (stderr, "error: bad_reply: hashes is not a list of 32-byte bins\n");
        rc = CTL_EXIT_REFUSED;
    }
    *count = rc == CTL_EXIT_OK? hashes->via.array.size: 0;
    ctl_reply_destroy (&reply);
    return rc;
}

int
ctl_logfetch_inclusion (const ctl_logfetch_t *self, uint64_t log_index, uint64_t size,
                        audit_merkle_hash_t *proof, size_t *count)
{
    return s_proof (self, "log_index", log_index, size, proof, count);
}

int
ctl_logfetch_consistency (const ctl_logfetch_t *self, uint64_t from_size, uint64_t size,
                          audit_merkle_hash_t *proof, size_t *count)
{
    return s_proof (self, "from_size", from_size, size, proof, count);
}

int
ctl_logfetch_proof_node (uint64_t leaf, uint64_t size, const audit_merkle_hash_t *proof,
                         size_t count, uint64_t first, uint64_t end, audit_merkle_hash_t hash)
{
    //  From the root down: proof [count - 1] is the root's other child
    uint64_t low = 0, high = size;
    for (size_t depth = 0; high - low > 1 && depth < count; depth++) {
        uint64_t mid = low + (1ull << (63 - __builtin_clzll (high - low - 1)));
        bool left = leaf < mid;
        uint64_t sibling_first = left? mid: low, sibling_end = left? high: mid;
        if (sibling_first == first && sibling_end == end) {
            memcpy (hash, proof [count - 1 - depth], AUDIT_MERKLE_HASH_SIZE);
            return 0;
        }
        if (left)
            high = mid;
        else
            low = mid;
    }
    return -1;
}

//  The last two proofs fetched, as neighbouring subtrees share them
typedef struct {
    uint64_t leaf;
    size_t count;
    bool used;
    audit_merkle_hash_t hashes [AUDIT_MERKLE_PROOF_MAX];
} s_cached_t;

typedef struct {
    const ctl_logfetch_t *fetch;
    ctl_bundle_t *bundle;
    const uint8_t *root;
    s_cached_t cache [2];
    unsigned next;
    int rc;
} s_filler_t;

static s_cached_t *
s_cached_proof (s_filler_t *filler, uint64_t leaf)
{
    for (int at = 0; at < 2; at++)
        if (filler->cache [at].used && filler->cache [at].leaf == leaf)
            return &filler->cache [at];
    s_cached_t *cached = &filler->cache [filler->next];
    filler->next ^= 1;
    cached->used = false;
    filler->rc = ctl_logfetch_inclusion (filler->fetch, leaf, filler->bundle->size,
                                         cached->hashes, &cached->count);
    if (filler->rc != CTL_EXIT_OK)
        return NULL;
    cached->leaf = leaf;
    cached->used = true;
    return cached;
}

static int
s_fill (void *arg, uint64_t first, uint64_t end, uint64_t leaf, audit_merkle_hash_t hash)
{
    s_filler_t *filler = (s_filler_t *) arg;
    if (leaf == UINT64_MAX)                 //  nothing exported: the whole tree
        memcpy (hash, filler->root, AUDIT_MERKLE_HASH_SIZE);
    else {
        s_cached_t *proof = s_cached_proof (filler, leaf);
        if (!proof)
            return -1;
        if (ctl_logfetch_proof_node (leaf, filler->bundle->size, proof->hashes, proof->count,
                                     first, end, hash) != 0) {
            fprintf (stderr, "error: bad_reply: the proof of log_index %llu is too short\n",
                     (unsigned long long) leaf);
            filler->rc = CTL_EXIT_REFUSED;
            return -1;
        }
    }
    return ctl_bundle_add_subtree (filler->bundle, first, end, hash);
}

int
ctl_logfetch_subtrees (const ctl_logfetch_t *self, ctl_bundle_t *bundle,
                       const audit_merkle_hash_t root, audit_merkle_hash_t computed)
{
    s_filler_t *filler = (s_filler_t *) calloc (1, sizeof *filler);
    if (!filler)
        return CTL_EXIT_REFUSED;
    filler->fetch = self;
    filler->bundle = bundle;
    filler->root = root;
    filler->rc = CTL_EXIT_OK;
    bundle->subtree_count = 0;
    int rc = ctl_bundle_walk (bundle, s_fill, filler, computed) == 0? CTL_EXIT_OK
           : filler->rc != CTL_EXIT_OK? filler->rc: CTL_EXIT_REFUSED;
    free (filler);
    return rc;
}
