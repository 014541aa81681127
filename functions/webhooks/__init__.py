"""TikTok webhooks: the receiver (verify, enqueue, answer 200) and the processor (apply to posts/accounts)."""
