"""``python -m tinytodo_server [port] [options]``: run the TinyTodo server."""

from __future__ import annotations

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
