/*  pg_conn against a server that stops answering, with no PostgreSQL
    needed: a fake one on loopback speaks just enough of the protocol (no
    TLS, trust, ReadyForQuery) and then falls silent, as a frozen process
    does whose kernel still holds the connection open. A call gives it up
    after the reply timeout instead of waiting forever (the ingest writer's
    stop waited so), and a connection that never comes up is given up after
    the URL's connect_timeout. */

#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <czmq.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pg_conn.h"

typedef struct {
    int listener;
    bool answers_setup;             //  false: silent from the first byte
    int port;
    pthread_t thread;
} s_fake_t;

static bool
s_read_all (int fd, void *data, size_t size)
{
    uint8_t *at = (uint8_t *) data;
    while (size > 0) {
        ssize_t got = read (fd, at, size);
        if (got <= 0)
            return false;
        at += got;
        size -= (size_t) got;
    }
    return true;
}

static uint32_t
s_be32 (const uint8_t *bytes)
{
    return (uint32_t) bytes [0] << 24 | (uint32_t) bytes [1] << 16
         | (uint32_t) bytes [2] << 8 | bytes [3];
}

//  The startup message, any TLS or GSS request before it refused: true
//  once the startup itself came
static bool
s_startup (int fd)
{
    while (true) {
        uint8_t head [8];
        if (!s_read_all (fd, head, sizeof head))
            return false;
        uint32_t length = s_be32 (head), code = s_be32 (head + 4);
        if (length == 8 && (code == 80877103 || code == 80877104)) {
            if (write (fd, "N", 1) != 1)
                return false;
            continue;
        }
        uint8_t rest [1024];
        return length >= 8 && length - 8 <= sizeof rest && s_read_all (fd, rest, length - 8);
    }
}

//  One message of the client's: its type, its body skipped
static bool
s_message (int fd, char *type)
{
    uint8_t head [5], body [4096];
    if (!s_read_all (fd, head, sizeof head))
        return false;
    *type = (char) head [0];
    uint32_t length = s_be32 (head + 1);
    return length >= 4 && length - 4 <= sizeof body && s_read_all (fd, body, length - 4);
}

static void *
s_serve (void *arg)
{
    s_fake_t *self = (s_fake_t *) arg;
    int fd = accept (self->listener, NULL, NULL);
    if (fd < 0)
        return NULL;
    if (self->answers_setup && s_startup (fd)) {
        static const uint8_t ok [] = { 'R', 0, 0, 0, 8, 0, 0, 0, 0, 'Z', 0, 0, 0, 5, 'I' };
        static const uint8_t set [] = { 'C', 0, 0, 0, 8, 'S', 'E', 'T', 0, 'Z', 0, 0, 0, 5, 'I' };
        char type = 0;
        if (write (fd, ok, sizeof ok) == (ssize_t) sizeof ok && s_message (fd, &type)
        &&  type == 'Q' && write (fd, set, sizeof set) != (ssize_t) sizeof set)
            type = 0;
    }
    //  Silent from here: what comes is read, nothing is answered
    char sink [4096];
    while (read (fd, sink, sizeof sink) > 0)
        ;
    close (fd);
    return NULL;
}

static void
s_fake_start (s_fake_t *self, bool answers_setup)
{
    memset (self, 0, sizeof *self);
    self->answers_setup = answers_setup;
    self->listener = socket (AF_INET, SOCK_STREAM, 0);
    cr_assert_geq (self->listener, 0);
    struct sockaddr_in address = { .sin_family = AF_INET };
    address.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    cr_assert_eq (bind (self->listener, (struct sockaddr *) &address, sizeof address), 0);
    cr_assert_eq (listen (self->listener, 4), 0);
    socklen_t size = sizeof address;
    cr_assert_eq (getsockname (self->listener, (struct sockaddr *) &address, &size), 0);
    self->port = ntohs (address.sin_port);
    cr_assert_eq (pthread_create (&self->thread, NULL, s_serve, self), 0);
}

static void
s_fake_stop (s_fake_t *self)
{
    //  The client closed its end: the server's read ends
    pthread_join (self->thread, NULL);
    close (self->listener);
}

Test (pg_conn, a_server_that_stops_answering_is_given_up_after_the_reply_timeout)
{
    s_fake_t fake;
    s_fake_start (&fake, true);
    char url [128];
    snprintf (url, sizeof url, "postgresql://audit@127.0.0.1:%d/x?sslmode=disable", fake.port);
    pg_conn_t *conn = pg_conn_new (url, false);
    cr_assert_not_null (conn, "the fake answers the session's setup");
    pg_conn_set_reply_timeout (conn, 300);
    int64_t started = zclock_mono ();
    cr_expect_eq (pg_conn_exec (conn, "SELECT 1"), -1);
    int64_t waited = zclock_mono () - started;
    cr_expect (waited >= 250 && waited < 5000, "gave up after %lld ms", (long long) waited);
    //  The connection was dropped: the fake hears its end. With the fake
    //  gone, the next call's reconnection is refused at once
    s_fake_stop (&fake);
    cr_expect_null (pg_conn_handle (conn), "no connection now");
    cr_expect_eq (pg_conn_generation (conn), 1, "none was made again");
    pg_conn_destroy (&conn);
}

Test (pg_conn, a_connection_that_never_comes_up_is_given_up_after_connect_timeout)
{
    s_fake_t fake;
    s_fake_start (&fake, false);
    char url [160];
    snprintf (url, sizeof url,
              "postgresql://audit@127.0.0.1:%d/x?sslmode=disable&connect_timeout=1", fake.port);
    int64_t started = zclock_mono ();
    pg_conn_t *conn = pg_conn_new (url, false);
    int64_t waited = zclock_mono () - started;
    cr_expect_null (conn);
    cr_expect (waited < 5000, "the URL's connect_timeout, not ours: %lld ms", (long long) waited);
    pg_conn_destroy (&conn);
    s_fake_stop (&fake);
}
