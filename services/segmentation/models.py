"""Every table of segmentation on one metadata, for Alembic and the check that the migrations build the models.
Each room keeps its own tables (`segments/models.py`, `clustering/models.py`, `clv/models.py`, `replica/models.py`);
the outbox, inbox and settings are in `base.py`."""

from services.segmentation.base import Base, Setting, outbox, processed_messages
from services.segmentation.clustering.models import ClusterAssignment, Clustering, ClusteringRun
from services.segmentation.clv.models import ClvFit, ClvModel
from services.segmentation.replica.models import ProfileFeatures, ProfileTombstone
from services.segmentation.segments.models import PastMembership, Segment, SegmentMembership, SegmentSize

__all__ = [
    "Base", "ClusterAssignment", "Clustering", "ClusteringRun", "ClvFit", "ClvModel", "PastMembership",
    "ProfileFeatures", "ProfileTombstone", "Segment", "SegmentMembership", "SegmentSize", "Setting", "outbox",
    "processed_messages",
]  # fmt: skip
