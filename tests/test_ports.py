"""Ports for the processes the runner and the tests start lie below the kernel's ephemeral range, where no
outgoing connection can take them between choosing a port and listening on it."""

import socket

from deploy.local.ports import first_ephemeral_port, free_ports


def test_a_block_of_ports_is_free_consecutive_and_below_the_ephemeral_range() -> None:
    first = free_ports(4)
    assert first + 3 < first_ephemeral_port()
    for port in range(first, first + 4):
        with socket.socket() as listener:
            listener.bind(("127.0.0.1", port))
            listener.listen()


def test_the_same_port_is_never_handed_out_twice() -> None:
    blocks = [set(range(first, first + 4)) for first in (free_ports(4) for _ in range(200))]
    assert len(set().union(*blocks)) == 4 * 200
