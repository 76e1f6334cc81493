"""Request and response models of the segmentation API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class FeaturesRead(BaseModel):
    """The features segmentation holds for one profile."""

    model_config = ConfigDict(from_attributes=True)

    profile_id: str
    traits: dict[str, Any]
    computed: dict[str, Any]
    updated_at: datetime
