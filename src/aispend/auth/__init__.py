"""Access control: users, organisations and roles, sessions, API tokens, single sign-on.

``permissions`` holds the role table; ``tenancy`` scopes every query of a request to its
organisation; the web layer's one check is ``aispend.web.guard``. The audit log these
modules write to is ``aispend.audit``.
"""
