"""The review page: a creator confirms a direct post before anything is sent to TikTok.

TikTok's Direct Post guidelines (docs/reference/tiktok-direct-post-ux.md §10) decide what the page shows and
what the server accepts. `links` signs and checks the single-purpose review links, `choices` holds the
rules every submission is checked against, `page` renders the HTML, and `review` ties them to the post
record and the waiting workflow.
"""
