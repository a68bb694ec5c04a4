"""The one place geometry is read, written and measured. Callers never branch on the backend.

Geometries are stored in WGS84 (EPSG:4326, lon/lat axis order as in GeoJSON). Areas are computed
in Lambert-93 (EPSG:2154), the metric projection of metropolitan France.
"""

from __future__ import annotations

from typing import Any

import shapely
from pyproj import Transformer
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry
from shapely.ops import transform

from datahub.errors import FieldError, ValidationFailed

MAX_VERTICES = 2_000_000
_TO_LAMBERT93 = Transformer.from_crs(4326, 2154, always_xy=True)


def from_geojson(geojson: dict[str, Any], *, field: str = "geometry") -> BaseGeometry:
    """A shapely geometry from a GeoJSON geometry object, checked and repaired if self-crossing."""
    try:
        geometry = shape(geojson)
    except (KeyError, TypeError, ValueError, AttributeError, shapely.errors.ShapelyError) as exc:
        # ShapelyError covers GEOS failures and unknown types ({"type": "Foo"}, also nested in
        # a GeometryCollection), which used to escape as a 500.
        raise ValidationFailed(
            "invalid GeoJSON geometry", errors=[FieldError(None, field, str(exc)[:200])]
        ) from None
    if shapely.get_num_coordinates(geometry) > MAX_VERTICES:
        raise ValidationFailed(
            "geometry too large",
            errors=[FieldError(None, field, f"more than {MAX_VERTICES} vertices")],
        )
    if geometry.is_empty:
        raise ValidationFailed(
            "empty geometry", errors=[FieldError(None, field, "geometry is empty")]
        )
    minx, miny, maxx, maxy = geometry.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise ValidationFailed(
            "coordinates out of range",
            errors=[FieldError(None, field, "expected WGS84 longitude/latitude (EPSG:4326)")],
        )
    if not geometry.is_valid:
        geometry = shapely.make_valid(geometry)
    return geometry


def to_geojson(geometry: BaseGeometry | None) -> dict[str, Any] | None:
    return None if geometry is None else dict(mapping(geometry))


def point(lon: float, lat: float) -> BaseGeometry:
    return shapely.Point(lon, lat)


def area_ha(geometry: BaseGeometry) -> float:
    """Area in hectares, measured in Lambert-93."""
    return float(transform(_TO_LAMBERT93.transform, geometry).area) / 10_000.0
