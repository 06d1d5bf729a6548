"""cobot-sevdesk: keeps a Cobot coworking space and a sevDesk account in step."""

__version__ = "0.1.0"
