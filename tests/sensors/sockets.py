"""Real TCP connections on loopback for the connection-sensor tests."""
import socket


def tcp_pair(family, host):
    """A listening socket, a client connected to it and the accepted end."""
    server = socket.socket(family, socket.SOCK_STREAM)
    server.bind((host, 0))
    server.listen(1)
    client = socket.socket(family, socket.SOCK_STREAM)
    client.connect(server.getsockname()[:2])
    accepted, _ = server.accept()
    return server, client, accepted
