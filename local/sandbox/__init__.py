"""A local TikTok: Login Kit and the Content Posting API as docs/reference/tiktok-api.md describes them.

Start it with `python -m local.sandbox --port PORT ...` or in-process with `SandboxServer(config).start()`;
docs/sandbox.md lists every flag, control and fault.
"""

from local.sandbox.config import Creator, Faults, SandboxConfig
from local.sandbox.creators import default_creators
from local.sandbox.server import SandboxServer

__all__ = ["Creator", "Faults", "SandboxConfig", "SandboxServer", "default_creators"]
