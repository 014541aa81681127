"""Connecting TikTok accounts and keeping their tokens alive (handlers -> accounts -> tiktok/store)."""
