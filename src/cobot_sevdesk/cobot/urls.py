"""Where Cobot is: the base URLs of its three hosts (www, a space's API 1, API 2), from
the settings, and which hosts an invoice's PDF link may point at."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlsplit


@dataclass(frozen=True)
class CobotUrls:
    www: str
    space_template: str
    api2: str
    #: Hosts (``host`` or ``host:port``) invoice PDFs may be downloaded from; empty
    #: means the API 2 host. See ``pdf_hosts_allowed``.
    pdf_hosts: tuple[str, ...] = ()

    @classmethod
    def from_settings(cls) -> CobotUrls:
        from django.conf import settings

        return cls(
            settings.COBOT_URL,
            settings.COBOT_SPACE_URL,
            settings.COBOT_API2_URL,
            tuple(getattr(settings, "COBOT_PDF_HOSTS", ())),
        )

    def pdf_hosts_allowed(self) -> frozenset[str]:
        """Where an invoice's ``pdf.url`` may point.

        UNCERTAIN: Cobot's API 2 spec documents ``pdf.url`` only as "not stable, works
        for a few minutes, works without API authentication", and every example in it
        is ``https://api.cobot.me/invoices/<id>.pdf?token=...``, i.e. on the API 2 host
        (the spec's ``GET /invoices/{id}.pdf`` with its ``token`` parameter). Whether
        Cobot ever hands out a link to another host (a signed storage URL, say, for
        archived PDFs) is not documented. So the default is the API 2 host only, and
        ``COBOT_PDF_HOSTS`` lets an operator allow more hosts should Cobot use them;
        any other host fails the invoice with a message saying so (docs/DECISIONS.md).
        """
        hosts = self.pdf_hosts or (urlsplit(self.api2).netloc,)
        return frozenset(h.strip().lower() for h in hosts if h.strip())

    def pdf_url_allowed(self, url: str) -> bool:
        try:
            parts = urlsplit(url)
            netloc = parts.netloc.lower()
        except ValueError:
            return False
        # https, or the API's own scheme (the sandboxes run plain http on loopback).
        schemes = {"https", urlsplit(self.api2).scheme}
        return (
            parts.scheme in schemes
            and "@" not in netloc  # no credentials smuggled into the host part
            and netloc in self.pdf_hosts_allowed()
        )

    def space(self, subdomain: str) -> str:
        return self.space_template.replace("{subdomain}", quote(subdomain, safe=""))

    @property
    def authorize(self) -> str:
        return f"{self.www}/oauth/authorize"

    @property
    def token(self) -> str:
        return f"{self.www}/oauth/access_token"
