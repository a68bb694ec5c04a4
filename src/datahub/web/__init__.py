"""The web interface: French HTML pages beside the API, over the same services and policy."""
