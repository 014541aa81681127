"""TikTok's paths as the sandbox serves them (docs/reference/tiktok-api.md §1, §2, §3.2, and the Display API
of
docs/reference/tiktok-in-the-field.md §6; every path ends with `/`)."""

from __future__ import annotations

AUTHORIZE = "/v2/auth/authorize/"
TOKEN = "/v2/oauth/token/"  # noqa: S105  # nosec B105
REVOKE = "/v2/oauth/revoke/"
USER_INFO = "/v2/user/info/"
VIDEO_LIST = "/v2/video/list/"
VIDEO_QUERY = "/v2/video/query/"
CREATOR_INFO = "/v2/post/publish/creator_info/query/"
VIDEO_INIT = "/v2/post/publish/video/init/"
INBOX_VIDEO_INIT = "/v2/post/publish/inbox/video/init/"
CONTENT_INIT = "/v2/post/publish/content/init/"
STATUS_FETCH = "/v2/post/publish/status/fetch/"
CANCEL = "/v2/post/publish/cancel/"
UPLOAD = "/upload/"

OAUTH_PATHS = (TOKEN, REVOKE)
POSTING_PATHS = (CREATOR_INFO, VIDEO_INIT, INBOX_VIDEO_INIT, CONTENT_INIT, STATUS_FETCH, CANCEL)
DISPLAY_PATHS = (USER_INFO, VIDEO_LIST, VIDEO_QUERY)
API_PATHS = (*DISPLAY_PATHS, *POSTING_PATHS)
# Everything a fault can be aimed at; "*" means every one of them.
FAULTABLE_PATHS = frozenset((AUTHORIZE, *OAUTH_PATHS, *API_PATHS, UPLOAD))
ANY_PATH = "*"

# §7.1: per access token, sliding minute. Cancel and the token endpoint have no documented limit.
# The three Display API paths allow 600 each.
DEFAULT_RATE_LIMITS: dict[str, int] = {
    VIDEO_INIT: 6,
    INBOX_VIDEO_INIT: 6,
    CONTENT_INIT: 6,
    CREATOR_INFO: 20,
    STATUS_FETCH: 30,
    USER_INFO: 600,
    VIDEO_LIST: 600,
    VIDEO_QUERY: 600,
}
