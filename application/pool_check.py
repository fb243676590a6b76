"""A pooled connection checked before use without a round trip, unless it looks dead.

The library's pre-ping (``POSTGRES_PRE_PING``) sends an empty query every time a connection
leaves the pool: a round trip per store call. A connection whose server went away (a
restart, a terminated backend) has something to read on an idle socket: the server's
farewell (``FATAL: terminating connection``) or the end of the stream. So the socket is
polled first, which costs no round trip; only then is the connection pinged, and the pool
discards it and hands out another if the ping fails. A connection that dies without a word
(the network cut, no FIN) passes the poll: a write that then fails before its COMMIT is tried
again on another connection (``store_policy.CommitNeverSent``), reads are tried again anyway.
"""

from __future__ import annotations

import select
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

_STIRRED = select.POLLIN | select.POLLPRI | select.POLLERR | select.POLLHUP


def check_idle(conn: psycopg.Connection[Any]) -> None:
    """Raise if the connection is dead; the pool then discards it and tries another."""
    if conn.closed or conn.broken:
        raise psycopg.OperationalError("the pooled connection is closed")
    poller = select.poll()
    poller.register(conn.pgconn.socket, _STIRRED)
    if poller.poll(0):  # an idle connection has nothing to say unless it is going away
        ConnectionPool.check_connection(conn)


def check_pooled_connections_idly(pool: ConnectionPool[Any]) -> None:
    """Use ``check_idle`` for the connections ``pool`` hands out, in place of a pre-ping."""
    pool._check = check_idle  # psycopg_pool takes a check only when it is built
