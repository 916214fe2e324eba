"""Model backends behind one protocol: transformers, OpenAI-compatible servers, llama.cpp, scripted."""

from persafe.llm.base import ChatModel, Conversation, Generation, GenerationParams, Message, as_messages
from persafe.llm.cache import CachedChatModel, ResponseCache, cache_key
from persafe.llm.scripted import ScriptedChatModel
from persafe.llm.spec import BACKENDS, load_model

__all__ = [
    "BACKENDS",
    "CachedChatModel",
    "ChatModel",
    "Conversation",
    "Generation",
    "GenerationParams",
    "Message",
    "ResponseCache",
    "ScriptedChatModel",
    "as_messages",
    "cache_key",
    "load_model",
]
