"""All ORM models, imported here so Alembic's autogenerate and ``alembic check`` see them."""

from datahub.db.models.audit import AuditEvent, AuditSeal, OpenReadCount
from datahub.db.models.carbon import (
    CarbonActivityFact,
    CarbonClimateFact,
    CarbonEmissionFact,
    CarbonEmissionFactor,
    CarbonLandFact,
    CarbonRollupEdge,
    CarbonSequestrationFactor,
    ReferenceDesignation,
)
from datahub.db.models.catalog import Dataset, DatasetTerritory, DatasetVersion
from datahub.db.models.generation import DataGeneration
from datahub.db.models.identity import ApiToken, Invitation, Organization, User
from datahub.db.models.jobs import Job
from datahub.db.models.licensing import AccessRequest, Grant
from datahub.db.models.notifications import DatasetSubscription, Notification, Webhook
from datahub.db.models.territories import (
    Actor,
    ActorTarget,
    PlanVersion,
    Target,
    Territory,
    TerritoryParent,
)

__all__ = [
    "AccessRequest",
    "Actor",
    "ActorTarget",
    "ApiToken",
    "AuditEvent",
    "AuditSeal",
    "CarbonActivityFact",
    "CarbonClimateFact",
    "CarbonEmissionFact",
    "CarbonEmissionFactor",
    "CarbonLandFact",
    "CarbonRollupEdge",
    "CarbonSequestrationFactor",
    "DataGeneration",
    "Dataset",
    "DatasetSubscription",
    "DatasetTerritory",
    "DatasetVersion",
    "Grant",
    "Invitation",
    "Job",
    "Notification",
    "OpenReadCount",
    "Organization",
    "PlanVersion",
    "ReferenceDesignation",
    "Target",
    "Territory",
    "TerritoryParent",
    "Webhook",
    "User",
]
