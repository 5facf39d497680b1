"""Endpoint clients. Each module here is the only place its SDK or HTTP client is imported."""
