"""The event inspector: recent events with what the collector decided about each, as a page and an API."""
