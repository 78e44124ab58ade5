"""HTTP/1.1 on a client connection: parsers (h11 and httptools behind one
interface), request checks, the request queue, response heads and framing, and
the connection object that drives them."""
