"""pagi-front: the edge process (listeners, HTTP, routing to workers)."""
