"""A strategy simulator of the LLM market: Meta's open Llama against closed APIs (see README.md)."""

__version__ = "0.1.0"
