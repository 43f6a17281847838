/*  =========================================================================
    test_memguard - which connection the memory guard names, on real TCP
    connections over loopback (their TCP_INFO byte counts), with a guard
    set under the test's own memory so that it is past it at once
    ========================================================================= */

#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit_memguard.h"
#include "audit_tcp.h"

TestSuite (memguard);

//  A connected pair over loopback: *server is the accepted end
static void
s_pair (int listener, int *client, int *server)
{
    struct sockaddr_in address;
    socklen_t size = sizeof address;
    cr_assert_eq (getsockname (listener, (struct sockaddr *) &address, &size), 0);
    *client = socket (AF_INET, SOCK_STREAM, 0);
    cr_assert_eq (connect (*client, (struct sockaddr *) &address, size), 0);
    *server = accept (listener, NULL, NULL);
    cr_assert_geq (*server, 0);
}

static int
s_listener (void)
{
    int listener = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = { .sin_family = AF_INET };
    inet_pton (AF_INET, "127.0.0.1", &address.sin_addr);
    cr_assert_eq (bind (listener, (struct sockaddr *) &address, sizeof address), 0);
    cr_assert_eq (listen (listener, 4), 0);
    return listener;
}

//  bytes from client, read to the end by server
static void
s_carry (int client, int server, size_t bytes)
{
    static char buffer [64 * 1024];
    for (size_t sent = 0; sent < bytes; ) {
        ssize_t wrote = write (client, buffer, sizeof buffer);
        cr_assert_gt (wrote, 0);
        sent += (size_t) wrote;
        for (ssize_t got = 0; got < wrote; ) {
            ssize_t chunk = read (server, buffer, (size_t) (wrote - got));
            cr_assert_gt (chunk, 0);
            got += chunk;
        }
    }
}

Test (memguard, tcp_counts_what_a_connection_received)
{
    int listener = s_listener (), client, server;
    s_pair (listener, &client, &server);
    uint64_t before = audit_tcp_bytes_received (server);
    s_carry (client, server, 256 * 1024);
    cr_expect_geq (audit_tcp_bytes_received (server) - before, 256 * 1024);
    cr_expect_eq (audit_tcp_bytes_received (listener), 0, "a listener received nothing");
    int pipe_fds [2];
    cr_assert_eq (pipe (pipe_fds), 0);
    cr_expect_eq (audit_tcp_bytes_received (pipe_fds [0]), 0, "not TCP: no count");
    close (pipe_fds [0]);
    close (pipe_fds [1]);
    close (client);
    close (server);
    close (listener);
}

#if !defined (__SANITIZE_ADDRESS__)
//  Past the guard: the connection that brought the most since memory rose
//  (at least 1 MiB) is named, once; one that brought little never is
Test (memguard, names_the_connection_that_brought_the_most)
{
    cr_assert_gt (audit_memguard_rss (), 0);
    audit_memguard_t *guard = audit_memguard_new (1024 * 1024);     //  under us
    cr_assert_not_null (guard);
    cr_assert_not_null (audit_memguard_socket (guard));
    int listener = s_listener (), quiet_client, quiet, loud_client, loud;
    s_pair (listener, &quiet_client, &quiet);
    s_pair (listener, &loud_client, &loud);
    audit_memguard_opened (guard, quiet);
    audit_memguard_opened (guard, loud);
    int64_t now = 1000;
    //  Past the guard: the first look only notes, no one has brought anything
    cr_expect_eq (audit_memguard_check (guard, now), -1);
    s_carry (quiet_client, quiet, 64 * 1024);
    s_carry (loud_client, loud, 3 * 1024 * 1024);
    cr_expect_eq (audit_memguard_check (guard, now + 1), loud);
    //  Within the settling time, no one else is named
    cr_expect_eq (audit_memguard_check (guard, now + 2), -1);
    now += AUDIT_MEMGUARD_SETTLE_MS + 1;
    cr_expect_eq (audit_memguard_check (guard, now), -1, "named once; the quiet one never");
    //  A connection that ended is not named, though it brought the most
    s_carry (quiet_client, quiet, 2 * 1024 * 1024);
    audit_memguard_closed (guard, quiet);
    now += 10 * AUDIT_MEMGUARD_SETTLE_MS;
    cr_expect_eq (audit_memguard_check (guard, now), -1);
    audit_memguard_destroy (&guard);
    audit_memguard_destroy (&guard);
    cr_expect_null (guard);
    close (quiet_client);
    close (quiet);
    close (loud_client);
    close (loud);
    close (listener);
}

//  Between three quarters and the guard the bytes are noted again each
//  second: what a connection brought two notes ago is not held against
//  it when memory then passes the guard for another reason
Test (memguard, old_bytes_are_not_blamed)
{
    size_t rss = audit_memguard_rss ();
    audit_memguard_t *guard = audit_memguard_new (rss + rss / 5);   //  low under us
    cr_assert_not_null (guard);
    int listener = s_listener (), client, server;
    s_pair (listener, &client, &server);
    audit_memguard_opened (guard, server);
    int64_t now = 1000;
    cr_expect_eq (audit_memguard_check (guard, now), -1, "the first note");
    s_carry (client, server, 3 * 1024 * 1024);
    cr_expect_eq (audit_memguard_check (guard, now += 1000), -1, "noted again");
    cr_expect_eq (audit_memguard_check (guard, now += 1000), -1, "and again");
    //  Memory past the guard, brought by no connection
    size_t size = rss;
    char *ballast = malloc (size);
    cr_assert_not_null (ballast);
    memset (ballast, 1, size);
    cr_expect_eq (audit_memguard_check (guard, now + 1), -1, "3 MiB two seconds ago");
    free (ballast);
    audit_memguard_destroy (&guard);
    close (client);
    close (server);
    close (listener);
}

//  Under three quarters of the guard nothing is noted or named
Test (memguard, names_no_one_below_the_guard)
{
    audit_memguard_t *guard = audit_memguard_new ((size_t) 64 << 30);
    cr_assert_not_null (guard);
    int listener = s_listener (), client, server;
    s_pair (listener, &client, &server);
    audit_memguard_opened (guard, server);
    s_carry (client, server, 2 * 1024 * 1024);
    cr_expect_eq (audit_memguard_check (guard, 1000), -1);
    audit_memguard_destroy (&guard);
    close (client);
    close (server);
    close (listener);
}
#endif
