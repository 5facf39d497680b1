"""loadgen: an asyncio load-testing harness for LLM endpoints."""

__version__ = "0.1.0"
