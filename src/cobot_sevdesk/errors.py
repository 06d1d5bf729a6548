"""One error hierarchy for everything that can go wrong talking to Cobot or sevDesk.

    SyncError                      anything the worker can record on a ledger item
    ├── ApiError                   an HTTP call to Cobot or sevDesk did not succeed
    │   ├── TransientError         try again later (timeouts, connection errors, 5xx, 429)
    │   │   ├── RateLimited        429; ``retry_after`` carries the server's hint
    │   │   └── OutcomeUnknown     a write was sent but no answer came back:
    │   │                          read back before writing again
    │   ├── PermanentError         the request itself is wrong (400, 404, 409, 422)
    │   │   ├── NotFound           404
    │   │   └── Forbidden          403: this call is not allowed for our token; fails
    │   │                          the item, the space goes on
    │   └── AuthorizationError     401: the token itself is refused; pauses the whole
    │                              space (once a probe confirms it)
    ├── PayloadError               a response did not have the shape we rely on;
    │                              names the field
    └── BusinessRuleError          our own checks refused (missing booking account,
                                   unsupported tax case, ambiguous match); permanent

Configuration problems (missing keys, bad URLs) raise Django's ``ImproperlyConfigured``
and deliberately stay outside this tree, so nothing that catches ``SyncError`` can
swallow them.

Every ``SyncError`` has ``admin_message``: one sentence a space admin understands, kept
as a ``Message`` so it is shown in the reader's language.
"""

from __future__ import annotations

from cobot_sevdesk.messages import Text, _


class SyncError(Exception):
    """Base of every error recorded on a ledger item."""

    #: Short machine-readable code stored on the ledger item and used in metrics.
    code = "error"

    def __init__(self, message: str, *, admin_message: Text | None = None) -> None:
        super().__init__(message)
        self.admin_message: Text = admin_message or message


class ApiError(SyncError):
    """An HTTP call to an external service failed."""

    code = "api_error"

    def __init__(
        self,
        service: str,
        message: str,
        *,
        status: int | None = None,
        method: str = "",
        path: str = "",
        admin_message: Text | None = None,
    ) -> None:
        self.service = service
        self.status = status
        self.method = method
        self.path = path
        where = f"{method} {path}".strip()
        status_text = f" (HTTP {status})" if status is not None else ""
        detail = f"{service}{status_text}: {message}"
        if where:
            detail += f" [{where}]"
        super().__init__(
            detail,
            admin_message=admin_message
            or _("%(service)s said: %(message)s") % {"service": service, "message": message},
        )
        self.service_message = message


class TransientError(ApiError):
    """Worth retrying after a pause."""

    code = "transient"

    def __init__(
        self,
        service: str,
        message: str,
        *,
        retry_after: float | None = None,
        status: int | None = None,
        method: str = "",
        path: str = "",
        admin_message: Text | None = None,
    ) -> None:
        super().__init__(
            service, message, status=status, method=method, path=path, admin_message=admin_message
        )
        self.retry_after = retry_after


class RateLimited(TransientError):
    code = "rate_limited"


class OutcomeUnknown(TransientError):
    """The request was sent, but we cannot tell whether the service acted on it."""

    code = "outcome_unknown"


class PermanentError(ApiError):
    """Retrying the same request will fail the same way."""

    code = "rejected"


class NotFound(PermanentError):
    code = "not_found"


class Forbidden(PermanentError):
    """403: the token works, but not for this call (a permission, or an object of
    another account). Only the item fails."""

    code = "forbidden"

    @classmethod
    def of(cls, error: ApiError, admin_message: Text) -> Forbidden:
        """``error``'s call as refused, explained to the admin in ``admin_message``."""
        return cls(
            error.service,
            error.service_message,
            status=error.status,
            method=error.method,
            path=error.path,
            admin_message=admin_message,
        )


class AuthorizationError(ApiError):
    """401: the token was refused. Nothing more should be sent with it until it is
    fixed."""

    code = "unauthorized"


class PayloadError(SyncError):
    """A response lacked a field we need or had it in an unexpected type."""

    code = "bad_payload"

    def __init__(self, service: str, field: str, problem: str) -> None:
        self.service = service
        self.field = field
        super().__init__(
            f"{service} payload: field '{field}' {problem}",
            admin_message=_(
                "%(service)s sent data we could not read (field '%(field)s' %(problem)s). "
                "This is a bug or an API change; please report it."
            )
            % {"service": service, "field": field, "problem": problem},
        )


class BusinessRuleError(SyncError):
    """One of our own pre-flight checks refused to write, with a reason for the admin."""

    code = "refused"

    def __init__(self, code: str, admin_message: Text) -> None:
        super().__init__(str(admin_message), admin_message=admin_message)
        self.code = code
