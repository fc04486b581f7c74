"""roam_client: the Python client of the roam API.

``JobsAPI`` (async) and ``SyncJobsAPI`` (blocking) offer the ROAM controller's calls
(``submit_job``, ``get_job``, ``list_jobs``, ``cancel_job``, ``get_logs``, ``stream_logs``,
``get_results``) and one typed method per API operation, generated from the OpenAPI document.
"""

from ._generated import models
from .errors import RoamError
from .jobs_api import JobsAPI, SyncJobsAPI

__all__ = ["JobsAPI", "RoamError", "SyncJobsAPI", "models"]
__version__ = "0.1.0"
