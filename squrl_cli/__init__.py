"""squrl's Python SDK (`squrl_cli.client`) and the `squrl` command (`squrl_cli.cli`).

It talks to a squrl deployment over HTTP only and imports nothing else from this repository.
"""

from __future__ import annotations

__version__ = "0.1.0"
