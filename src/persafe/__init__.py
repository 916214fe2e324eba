"""persafe: personalized safety for LLM recommenders and assistants."""

__version__ = "0.1.0"
