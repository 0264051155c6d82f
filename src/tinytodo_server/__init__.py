"""TinyTodo server: the Cedar TinyTodo example app in Python (Starlette + cedarlang).

Run ``python -m tinytodo_server --help``.
"""

from .auth import Credentials, TokenIssuer
from .core import AppError, AuthDenied, Limits, StartupError, TinyTodo
from .database import Database, DatabaseError
from .inputs import Security, WebLimits
from .web import create_app

__all__ = [
    "AppError",
    "AuthDenied",
    "Credentials",
    "Database",
    "DatabaseError",
    "Limits",
    "Security",
    "StartupError",
    "TinyTodo",
    "TokenIssuer",
    "WebLimits",
    "create_app",
]
