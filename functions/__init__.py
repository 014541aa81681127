"""Lambda code of tiktok-publisher: handlers over posting rules over TikTok client and stores."""
