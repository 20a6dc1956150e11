"""DRF's HTML view of the API (what a browser sees at /api/...), under the Content Security Policy."""
from __future__ import annotations

import base64
import hashlib

from rest_framework import renderers


def style_attribute_hash(value: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(value.encode()).digest()).decode() + "'"


# DRF's page floats its "Filters" and "Extra Actions" buttons with this one style attribute;
# allowing exactly it (by hash) keeps every other inline style blocked.
DRF_BUTTON_STYLE = "float: right; margin-right: 10px"


class BrowsableAPIRenderer(renderers.BrowsableAPIRenderer):
    def get_context(self, data, accepted_media_type, renderer_context):
        context = super().get_context(data, accepted_media_type, renderer_context)
        context["code_style"] = None  # Pygments' CSS would be an inline <style>; prettify.css styles the code
        return context

    def render(self, data, accepted_media_type=None, renderer_context=None):
        html = super().render(data, accepted_media_type, renderer_context)
        response = (renderer_context or {}).get("response")
        if response is not None:
            response._csp_update = {"style-src-attr": ["'unsafe-hashes'", style_attribute_hash(DRF_BUTTON_STYLE)]}
        return html
