"""The seed-compatible API: the original file-management service's six endpoints.

A thin translator over the one upload core: `routes` maps each endpoint to UploadService
calls, `wire` renders the original's envelopes and errors, `forms` validates both field
dialects, `multipart` streams chunk parts, `files` maps its file ids onto uploads and jobs.
"""

from filedock.api.legacy.routes import router
from filedock.api.legacy.wire import PREFIX, render

__all__ = ["PREFIX", "render", "router"]
