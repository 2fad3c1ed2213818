"""The declarative base every table derives from, and how its column types map."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON
from sqlalchemy.orm import DeclarativeBase

from storage.types import UTCDateTime


class Base(DeclarativeBase):
    """Declarative base of every model."""

    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON(), list[Any]: JSON()}
