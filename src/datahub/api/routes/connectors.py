"""Connectors and their runs: a run is a job, polled at ``/jobs/{id}``.

Where the job runs is ``DATAHUB_JOB_QUEUE`` (see datahub.ingest.jobs).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from datahub.accounts.caller import Caller
from datahub.api.deps import ContextDep, RuntimeDep, require
from datahub.ingest import jobs, registry
from datahub.ingest.contract import parameters_schema

router = APIRouter()

RunnerDep = Annotated[Caller, Depends(require("admin", "producer"))]


class RunRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    params: dict[str, Any] = Field(
        default_factory=dict,
        description="The connector's parameters (see its `parameters` JSON schema).",
        examples=[{"territory": "epci:241700434"}],
    )


class Links(BaseModel):
    self: str


class RunAccepted(BaseModel):
    job: str
    state: str
    links: Links


class JobOut(jobs.JobRead):
    links: Links


def _job_url(request: Request, job_id: str) -> str:
    return str(request.url_for("get_job", job_id=job_id).path)


@router.get("/connectors", tags=["connectors"], summary="Installed connectors and their parameters")
def list_connectors() -> dict[str, Any]:
    data = [
        {
            "name": connector.name,
            "description": connector.description,
            "licence": connector.licence,
            "parameters": parameters_schema(connector),
        }
        for connector in registry.all()
    ]
    return {"data": data, "meta": {"total": len(data)}}


@router.get(
    "/connectors/runs",
    tags=["connectors"],
    summary="The newest connector runs with their state and progress (admin: all; producer: own)",
)
def list_runs(
    request: Request,
    runtime: RuntimeDep,
    caller: RunnerDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict[str, Any]:
    runs = jobs.list_runs(runtime, caller, limit)
    data = [JobOut(**job.model_dump(), links=Links(self=_job_url(request, job.id))) for job in runs]
    return {"data": data, "meta": {"total": len(data)}}


@router.post(
    "/connectors/{name}/runs",
    tags=["connectors"],
    status_code=status.HTTP_202_ACCEPTED,
    summary="Start a connector run (admin, producer); poll the job it returns",
)
def start_run(
    name: str,
    request: Request,
    response: Response,
    runtime: RuntimeDep,
    ctx: ContextDep,
    _caller: RunnerDep,
    body: Annotated[RunRequest | None, Body()] = None,
) -> RunAccepted:
    # No request transaction here: the job row must be committed before a worker reads it.
    job = jobs.submit_connector_run(runtime, name, (body or RunRequest()).params, ctx)
    url = _job_url(request, job.id)
    response.headers["Location"] = url
    return RunAccepted(job=job.id, state=job.state, links=Links(self=url))


@router.get(
    "/jobs/{job_id}",
    tags=["connectors"],
    summary="A job: state, progress and, once done, the versions it produced",
)
def get_job(job_id: str, request: Request, runtime: RuntimeDep, caller: RunnerDep) -> JobOut:
    job = jobs.read(runtime, job_id, caller)
    return JobOut(**job.model_dump(), links=Links(self=_job_url(request, job.id)))
