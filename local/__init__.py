"""Local embedded run: the TikTok sandbox and the local AWS runtime (never shipped to Lambda)."""
