"""TinyTodo server: the Cedar TinyTodo example app in Python (Starlette + cedarlang).

Run ``python -m tinytodo_server --help``.
"""

from .core import AppError, AuthDenied, StartupError, TinyTodo
from .storage import PostgresStorage, SqliteStorage, Storage, StorageError, open_storage
from .web import create_app

__all__ = [
    "AppError",
    "AuthDenied",
    "PostgresStorage",
    "SqliteStorage",
    "StartupError",
    "Storage",
    "StorageError",
    "TinyTodo",
    "create_app",
    "open_storage",
]
