"""pagi-worker: runs the application and serves the scopes the front hands it."""
