"""`from sdk.utilities.annotations import quote, unmapped, ...`: Prefect's path for `sdk.annotations`."""
from sdk.annotations import BaseAnnotation, allow_failure, opaque, quote, unmapped

__all__ = ["BaseAnnotation", "allow_failure", "opaque", "quote", "unmapped"]
