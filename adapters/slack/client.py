"""The Slack Web API client every request uses: base URL from settings, retries built in.

Why: slack_sdk reads no environment variable for its endpoint, so the base URL (Slack,
GovSlack, a proxy, the test fake) is passed explicitly; bolt copies it, the session and
the retry handlers into each per-request client and into Socket Mode. One shared aiohttp
session keeps connections alive between calls (a new session per call costs a TCP
handshake each time). Retries: a 429 waits for Retry-After, a 5xx backs off
exponentially, a dropped connection is retried; what still fails is the caller's to
report (see delivery.py).
"""

from __future__ import annotations

from urllib.parse import urlsplit

import aiohttp
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator
from slack_sdk.web.async_client import AsyncWebClient

RATE_LIMIT_RETRIES = 3
SERVER_ERROR_RETRIES = 2
CONNECTION_RETRIES = 2
TIMEOUT_SECONDS = 15


def api_base(url: str) -> str:
    """The Web API base with the trailing slash slack_sdk's urljoin needs."""
    return url if url.endswith("/") else url + "/"


def authorize_url(api_base_url: str) -> str:
    """The OAuth authorize page on the same host as the Web API (slack.com, slack-gov.com)."""
    parts = urlsplit(api_base_url)
    return f"{parts.scheme}://{parts.netloc}/oauth/v2/authorize"


def retry_handlers(backoff: float = 0.5) -> list[AsyncRetryHandler]:
    """429 → wait Retry-After; 500/503 → exponential backoff; connection reset → retry."""
    interval = BackoffRetryIntervalCalculator(backoff_factor=backoff)
    return [
        AsyncConnectionErrorRetryHandler(
            max_retry_count=CONNECTION_RETRIES, interval_calculator=interval
        ),
        AsyncRateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
        AsyncServerErrorRetryHandler(
            max_retry_count=SERVER_ERROR_RETRIES, interval_calculator=interval
        ),
    ]


def new_session() -> aiohttp.ClientSession:
    """The shared HTTP session (trust_env off: a stray HTTPS_PROXY must not reroute calls)."""
    return aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=TIMEOUT_SECONDS), trust_env=False
    )


def web_client(
    base_url: str,
    session: aiohttp.ClientSession,
    *,
    token: str | None = None,
    backoff: float = 0.5,
) -> AsyncWebClient:
    return AsyncWebClient(
        token=token,
        base_url=api_base(base_url),
        session=session,
        timeout=TIMEOUT_SECONDS,
        retry_handlers=retry_handlers(backoff),
    )
