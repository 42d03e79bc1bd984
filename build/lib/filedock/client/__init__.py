"""The filedock client: what `filedock upload` and `filedock download` run.

Synchronous on purpose: chunks go out from a thread pool, and reading, hashing and
sending all release the GIL, so threads are as fast as an event loop here and keep the
CLI (and scripts embedding the client) free of asyncio.
"""

from filedock.client.download import DownloadResult, download_file
from filedock.client.http import Api, ClientError, Retry
from filedock.client.progress import SILENT, Reporter, progress_bars
from filedock.client.state import ResumeState
from filedock.client.upload import Uploader, UploadOptions, UploadResult

__all__ = [
    "SILENT",
    "Api",
    "ClientError",
    "DownloadResult",
    "Reporter",
    "ResumeState",
    "Retry",
    "UploadOptions",
    "UploadResult",
    "Uploader",
    "download_file",
    "progress_bars",
]
