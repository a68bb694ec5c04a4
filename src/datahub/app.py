"""The HTTP composition root: ``create_app(settings)`` builds the FastAPI application."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.routing import APIRoute
from fastapi_offline import FastAPIOffline

from datahub import __version__
from datahub.api import cache, metrics, problems
from datahub.api.charts import ChartRenderer
from datahub.api.context import RequestIdMiddleware, SecurityHeadersMiddleware
from datahub.api.deps import get_caller
from datahub.api.guards import JsonBodyGuardMiddleware, NulGuardMiddleware
from datahub.api.head import HeadAsGetMiddleware
from datahub.api.metrics import MetricsMiddleware
from datahub.api.query_names import check_query_names
from datahub.api.ratelimit import RateLimiter, RateLimitMiddleware
from datahub.api.routes import (
    actors,
    audit,
    connectors,
    datasets,
    dcat,
    grants,
    health,
    index,
    licenses,
    notifications,
    ogc,
    organizations,
    plans,
    reference,
    schemas,
    territories,
    trajectories,
    users,
)
from datahub.api.token_use import TokenUseMiddleware
from datahub.audit.sealer import PeriodicSealer
from datahub.ingest import upload_jobs
from datahub.ingest.queue import Sweeper
from datahub.runtime import Runtime, build_runtime
from datahub.settings import Settings
from datahub.web import mount as web

API_PREFIX = "/api/v1"

DESCRIPTION = """\
Open-data hub for territories working towards carbon neutrality.

Every dataset carries a licence at one of three levels — **open**, **shared** (members of the
territory's data charter) or **restricted** (the producer and those it grants) — enforced on every
route. Authenticate with `Authorization: Bearer <token>`; without it you are anonymous.
Errors are `application/problem+json` (RFC 9457).
"""


def api_router() -> APIRouter:
    # Every route authenticates: a bad token is a 401 even where anonymous access would do;
    # and refuses query parameters it does not know (a typo would be silently ignored).
    router = APIRouter(
        prefix=API_PREFIX,
        responses=problems.ERROR_RESPONSES,
        dependencies=[Depends(get_caller), Depends(check_query_names)],
    )
    index.install(router)
    for module in (
        health,
        licenses,
        organizations,
        datasets,
        grants,
        dcat,
        territories,
        actors,
        connectors,
        audit,
        users,
        trajectories,
        notifications,
        plans,
        reference,
        schemas,
    ):
        router.include_router(module.router)
    return router


def _is_upload(method: str, path: str) -> bool:
    """Version uploads stream their body to disk (any format, JSON included): see edge.uploads."""
    return (
        method == "POST"
        and path.startswith(f"{API_PREFIX}/datasets/")
        and path.endswith("/versions")
    )


def _operation_id(route: APIRoute) -> str:
    return route.name


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> FastAPI:
    """Build the app. Tests pass a ``runtime``; production builds one from ``settings``."""
    settings = settings or (runtime.settings if runtime else Settings())
    owns_runtime = runtime is None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if owns_runtime:
            app.state.runtime = build_runtime(settings, serving=True)
        # Fail the jobs a crashed process left queued or running, now and from time to time.
        sweeper = Sweeper(app.state.runtime, sweep=upload_jobs.sweep)
        await asyncio.to_thread(sweeper.start)
        sealer = PeriodicSealer(
            app.state.runtime.transaction,
            app.state.runtime.seals,
            app.state.runtime.settings.audit_seal_minutes,
        ).start()
        try:
            yield
        finally:
            sealer.stop()
            sweeper.stop()
            app.state.charts.close()
            if owns_runtime:
                app.state.runtime.close()

    # The docs' scripts and styles are served by the instance itself (intranets have no CDN).
    app = FastAPIOffline(
        title="datahub",
        version=__version__,
        description=DESCRIPTION,
        license_info={"name": "Apache-2.0", "identifier": "Apache-2.0"},
        openapi_url="/openapi.json",
        # Operation ids are the route functions' names (list_datasets, read_rows...), stable for
        # generated clients, instead of FastAPI's path-derived ones.
        generate_unique_id_function=_operation_id,
        docs_url="/docs",
        redoc_url="/redoc",
        static_url="/docs-assets",
        lifespan=lifespan,
    )
    if runtime is not None:
        app.state.runtime = runtime
    app.state.result_cache = cache.from_settings(settings)
    app.state.charts = ChartRenderer(settings.chart_processes)
    problems.install(app, settings.base_url)
    # Innermost first: the guards answer inside the request id, security and CORS headers.
    app.add_middleware(TokenUseMiddleware)  # writes a token's last use after the response
    app.add_middleware(JsonBodyGuardMiddleware, exempt=_is_upload)
    app.add_middleware(NulGuardMiddleware)
    app.add_middleware(HeadAsGetMiddleware)  # inside the metrics and rate limit: counted
    if settings.rate_limit_enabled:
        app.add_middleware(
            RateLimitMiddleware,
            limiter=RateLimiter.from_settings(settings),
            exempt={f"{API_PREFIX}/health", "/metrics"},
        )
    app.add_middleware(SecurityHeadersMiddleware)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "X-Purpose", "X-Request-ID"],
            expose_headers=["Link", "X-Attribution", "X-Licence", "X-Request-ID", "ETag"],
        )
    app.add_middleware(RequestIdMiddleware)
    app.add_middleware(MetricsMiddleware)  # outermost: times everything the others do
    app.include_router(api_router())
    app.include_router(
        ogc.router, responses=problems.ERROR_RESPONSES, dependencies=[Depends(get_caller)]
    )
    web.install(app, settings)  # pages, static files and the session cookie (outside the API's)
    metrics.install(app, settings)
    return app
