"""The one place geometry is read, written and measured. Callers never branch on the backend.

Geometries are stored in WGS84 (EPSG:4326, lon/lat axis order as in GeoJSON). Areas are computed
in Lambert-93 (EPSG:2154), the metric projection of metropolitan France.
"""

from __future__ import annotations

from typing import Any

import numpy
import shapely
from pyproj import Transformer
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

from datahub.errors import FieldError, ValidationFailed

MAX_VERTICES = 2_000_000
_TO_LAMBERT93 = Transformer.from_crs(4326, 2154, always_xy=True)


def from_geojson(geojson: dict[str, Any], *, field: str = "geometry") -> BaseGeometry:
    """A shapely geometry from a GeoJSON geometry object, checked.

    An invalid geometry (a self-intersecting ring, a hole outside its shell...) is refused with
    the reason and where it is, not silently rewritten: a repaired outline is not the territory
    the producer meant, and its area and containment tests would be quietly wrong.
    """
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
        reason = explain_validity(geometry)
        raise ValidationFailed(
            "invalid geometry", errors=[FieldError(None, field, f"invalid geometry: {reason}")]
        )
    return geometry


def to_geojson(geometry: BaseGeometry | None) -> dict[str, Any] | None:
    return None if geometry is None else dict(mapping(geometry))


#: About 100 m at French latitudes: enough to place a territory on a map, a fraction of the bytes.
SIMPLIFY_DEGREES = 0.001


def simplified(geometry: BaseGeometry) -> BaseGeometry:
    """An outline light enough for a catalogue entry (topology kept: still valid)."""
    return geometry.simplify(SIMPLIFY_DEGREES, preserve_topology=True)


def point(lon: float, lat: float) -> BaseGeometry:
    return shapely.Point(lon, lat)


def area_ha(geometry: BaseGeometry) -> float:
    """Area in hectares, measured in Lambert-93."""

    def to_lambert93(xy: Any) -> Any:
        x, y = _TO_LAMBERT93.transform(xy[:, 0], xy[:, 1])
        return numpy.column_stack([x, y])

    return float(shapely.transform(geometry, to_lambert93).area) / 10_000.0
