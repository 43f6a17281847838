/*  =========================================================================
    test_keys - the CURVE mode of the integration tests (AUDIT_TEST_CURVE=1)
    Under it every worker the tests start is a CURVE server with one
    service certificate and a producers' directory, and every client
    connects with the service's public key and a certificate of its own:
    one per producer_id, made on first use (its public half in the
    producers' directory). The keys live in one directory per test process,
    removed when it exits. Without the variable nothing here does anything
    but answer "off".
    ========================================================================= */

#ifndef TEST_KEYS_H_INCLUDED
#define TEST_KEYS_H_INCLUDED

#include <czmq.h>
#include <stdbool.h>

//  The producer_id of the certificate clients use when they name none
#define TEST_KEYS_PRODUCER "test-service"

//  true when AUDIT_TEST_CURVE=1.
bool test_keys_on (void);

//  The service's certificate (the public file, its secret beside it as
//  "_secret"): AUDIT_CURVE_SECRET_FILE for workers, AUDIT_CURVE_SERVER_KEY
//  for clients. Made on first use.
const char *test_keys_server (void);

//  When on, test_keys_server (): what a client sets as its server key
//  (libaudit-producer's curve_server_key); NULL when off.
const char *test_keys_server_key (void);

//  The producers' directory: AUDIT_PRODUCER_KEYS_DIR.
const char *test_keys_producers (void);

//  The client certificate of producer_id (NULL: TEST_KEYS_PRODUCER),
//  made with its public half in the producers' directory when missing;
//  *made (may be NULL) says whether this call made it. A static path,
//  valid until the next call.
const char *test_keys_client (const char *producer_id, bool *made);

//  When on: make socket a CURVE client with producer_id's certificate
//  (NULL: TEST_KEYS_PRODUCER), before it connects. Off: nothing.
void test_keys_apply (zsock_t *socket, const char *producer_id);

//  When on: put into env (room for 2 entries) the settings program gets:
//  audit-* workers the service's certificate and the producers'
//  directory, other programs the client settings of TEST_KEYS_PRODUCER.
//  Returns the entries written (0 when off). Entries are static.
int test_keys_env (const char *program, const char **env);

#endif
